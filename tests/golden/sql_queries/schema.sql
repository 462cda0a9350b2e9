CREATE TABLE agents (id int PRIMARY KEY, status text);
CREATE TABLE events (id uuid, n int, label text);
