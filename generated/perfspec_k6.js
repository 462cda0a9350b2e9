// Support module of perfspec's generated k6 scripts: per-VU state, checks, profiles, the iteration.
//
// `perfspec build` writes this file once per output folder as perfspec_k6.js; a generated k6.js
// imports it (`import ... from "../perfspec_k6.js"`) and needs nothing but k6. Latencies are
// k6's own http_req_duration (and http_req_waiting for time to first byte), tagged with the
// endpoint (k6's `name` tag) and with one `target_<name>: "yes"` tag per target the endpoint
// counts for, so a threshold such as `http_req_duration{target_api:yes}` judges exactly that
// target. An unexpected status is k6's own http_req_failed (the script sets each request's
// expected statuses); a call that k6 saw succeed but perfspec's checks failed (body text, a value
// that could not be extracted) or that could not be sent (a value no response gave yet) adds one
// `perfspec_failed` sample tagged with its reason. Nothing else is added per request: the load
// generator spends its CPU on load.
import { check, sleep } from "k6";
import exec from "k6/execution";
import { Counter, Trend } from "k6/metrics";
import { SharedArray } from "k6/data";

const FAILED = new Counter("perfspec_failed");
const ABORTED = new Counter("perfspec_aborted");
const STOPPED = new Counter("perfspec_stopped_users");
// stop a hopeless run: no response (or 5xx) to every request of a VU for this long; 0: never
const ABORT_MS = parseFloat(__ENV.PERFSPEC_ABORT_AFTER === undefined ? "10" : __ENV.PERFSPEC_ABORT_AFTER) * 1000;
const WS_LATENCY = new Trend("perfspec_ws_latency", true);

export class MissingValue extends Error {}

// `${NAME}` / `${NAME:-default}`: read when the request is built; unset fails the call
export function env(name, fallback) {
  const value = __ENV[name] || fallback;
  if (value === undefined) throw new MissingValue(`environment variable ${name} is not set`);
  return value;
}

const UNSET = [];

// a host's URL from the environment (trailing slashes dropped); an unset one stops the test at
// its first iteration with the variable's name
export function host(name, fallback) {
  const value = __ENV[name] || fallback;
  if (value === undefined) {
    UNSET.push(name);
    return "";
  }
  return value.replace(/\/+$/, "");
}

// a multipart/form-data body, its parts in the fields' order, encoded as perfspec_locust_checks
// encodes it (byte for byte: the same boundary, quoted names); an object of http.file()s would be
// sent in an order of k6's choosing. The script sends it with MULTIPART as its Content-Type.
export const BOUNDARY = "perfspec-form-5c1e2f0a9b7d4e63a8f1";

export function multipartBody(fields) {
  const chunks = [];
  for (const [name, value] of Object.entries(fields)) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${quoted(name)}"`;
    let data;
    if (value instanceof FileField) {
      head += `; filename="${quoted(value.filename)}"\r\nContent-Type: ${value.contentType}`;
      data = value.bytes;
    } else {
      data = utf8(String(value));
      if (String(value).includes(BOUNDARY)) throw new Error(`the multipart field ${name} holds the boundary text`);
    }
    chunks.push(utf8(`${head}\r\n\r\n`), data, utf8("\r\n"));
  }
  chunks.push(utf8(`--${BOUNDARY}--\r\n`));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out.buffer;
}

class FileField {
  constructor(data, filename, contentType) {
    this.bytes = new Uint8Array(data);
    if (utf8ToString(this.bytes).includes(BOUNDARY)) throw new Error(`the multipart file ${filename} holds the boundary text`);
    this.filename = filename;
    this.contentType = contentType;
  }
}

// a file of a multipart body: its content (open(path, "b")), file name and type; made once per VU
export function fileField(data, filename, contentType) {
  return new FileField(data, filename, contentType);
}

// a name inside Content-Disposition, as Go and perfspec_locust_checks write it
function quoted(text) {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function utf8(text) {
  const s = unescape(encodeURIComponent(text));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function utf8ToString(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return s;
}

// a form body (application/x-www-form-urlencoded) in the fields' order, encoded as HTML forms and
// Python's urlencode encode it (a space is +); an object body would be sent sorted by name
export function formBody(fields) {
  const encode = (text) =>
    encodeURIComponent(String(text))
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replace(/%20/g, "+");
  return Object.entries(fields)
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join("&");
}

// `{uuid}`: a new random UUID (version 4) each time
export function uuid() {
  const hex = "0123456789abcdef";
  let s = "";
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) s += "-";
    else if (i === 14) s += "4";
    else if (i === 19) s += hex[(Math.random() * 4) | 8];
    else s += hex[(Math.random() * 16) | 0];
  }
  return s;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// the value of an `Authorization: Basic ...` header (UTF-8, standard base64)
export function basicAuth(user, password) {
  const bytes = unescape(encodeURIComponent(`${user}:${password}`));
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes.charCodeAt(i) << 16) | ((bytes.charCodeAt(i + 1) || 0) << 8) | (bytes.charCodeAt(i + 2) || 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return `Basic ${out}`;
}

// a data set's rows (http.data), read once and shared by every VU: a CSV file with a header line
// or a JSON array of objects
export function rows(name, path) {
  return new SharedArray(name, () => {
    const text = open(path);
    const found = path.endsWith(".csv") ? parseCsv(text) : JSON.parse(text);
    if (!found.length) throw new Error(`data file ${path} has no rows`);
    return found;
  });
}

function parseCsv(text) {
  const records = [];
  let field = "";
  let record = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      if (record.length > 1 || record[0] !== "") records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || record.length) records.push([...record, field]);
  const [head, ...body] = records;
  return body.map((r) => Object.fromEntries(head.map((k, j) => [k, r[j] === undefined ? "" : r[j]])));
}

// one virtual user running one flow: its variables and the flow's headers
export class User {
  constructor(flow) {
    this.flow = flow;
    this.vars = {};
    this.since = 0; // the abort rule: since when every task failed (0: the last one was answered)
    // why it stopped ("": it did not); an own property, read every iteration: a property the
    // object lacks is looked up along its prototypes, which cost k6 about 1 % of its rate
    this.stopped = "";
  }

  var(name) {
    const value = this.vars[name];
    if (value === undefined || value === null) throw new MissingValue(`variable {${name}} has no value yet`);
    return typeof value === "string" ? value : textOf(value);
  }

  has(...names) {
    return names.every((n) => this.vars[n] !== undefined && this.vars[n] !== null);
  }

  seq() {
    this.vars.seq = (this.vars.seq || 0) + 1;
    return String(this.vars.seq);
  }

  headers() {
    return this.flow.headers ? this.flow.headers(this) : {};
  }

  // the abort rule, for a task's response that is no success (no response or a status >= 400;
  // the flow's function resets `since` on any other): no response, a 5xx, or a 4xx none of the
  // flow's tasks expects keeps the clock running; an expected 4xx is an answer
  failed(res) {
    if (res.status >= 400 && res.status < 500 && this.flow.answers && this.flow.answers.includes(res.status)) {
      this.since = 0;
      return;
    }
    failing(this, res);
  }

  // a data row per iteration (`feed` with per: iteration)
  nextRow() {
    takeRow(this.flow.feed, exec.scenario.iterationInTest);
  }

  // a request that could not be built (a value no response gave yet): a failed call
  missing(tags, error) {
    if (!(error instanceof MissingValue)) throw error;
    this.failures = (this.failures || 0) + 1;
    this.lastFailure = error.message;
    FAILED.add(1, Object.assign({ reason: error.message, unsent: "yes" }, tags));
  }
}

function reasonOf(res) {
  if (res.status === 0) return res.error || "no response";
  return `HTTP ${res.status}`;
}

// the call's further checks once its status was expected (k6 counted the status itself); a
// failed check is one perfspec_failed sample with its reason
export function expect(res, tags, ...checks) {
  if (res.status === 0 || res.error_code) return false;
  for (const c of checks) {
    const reason = c(res);
    // k6's own check too: its end-of-test summary lists each one by endpoint ("login: extract token")
    // (a VU that carries its endpoint's tags has them as its own: the call's `tags` are undefined)
    const name = (tags && tags.name) || exec.vu.metrics.tags.name || "request";
    check(res, { [`${name}: ${c.label || "check"}`]: () => !reason }, tags);
    if (reason) {
      FAILED.add(1, Object.assign({ reason }, tags));
      if (user) {
        user.failures = (user.failures || 0) + 1;
        user.lastFailure = reason;
      }
      return false;
    }
  }
  return true;
}

// `retry:`: call again while the answer is one of the `on` statuses, after the server's
// Retry-After (seconds or an HTTP date), else `backoff` ms doubled per attempt, at most `maxWait`
// ms; a retried answer is no failure (its status counts as expected), the last one is judged, and
// still being refused after every attempt is a failure
export function retry(call, tags, on, attempts, backoff, maxWait) {
  for (let attempt = 1; ; attempt++) {
    const res = call();
    if (!on.includes(res.status)) return res;
    if (attempt >= attempts) {
      const reason = `HTTP ${res.status} after ${attempts} attempts`;
      FAILED.add(1, Object.assign({ reason }, tags));
      if (user) {
        user.failures = (user.failures || 0) + 1;
        user.lastFailure = reason;
      }
      return res;
    }
    const after = retryAfter(res);
    sleep(Math.min(maxWait, after !== null ? after : backoff * 2 ** (attempt - 1)) / 1000);
  }
}

function retryAfter(res) {
  let value = null;
  for (const [key, v] of Object.entries(res.headers || {})) if (key.toLowerCase() === "retry-after") value = v;
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return parseInt(value, 10) * 1000;
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, when - Date.now());
}

// a check's name in k6's summary, on the check function
function named(label, fn) {
  fn.label = label;
  return fn;
}

// a check: the body contains the text
export function bodyContains(text) {
  return named(`body contains ${shown(text)}`, (res) =>
    String(res.body).includes(text) ? "" : "body does not contain the expected text",
  );
}

// a check: a field of the JSON body (its keys) equals the value (JSON equality)
export function jsonEquals(path, expected, ...keys) {
  return named(`${path} == ${shown(expected)}`, (res) => {
    let node;
    try {
      node = res.json();
    } catch {
      return `${path}: the body is not JSON`;
    }
    for (const key of keys) {
      if (node === null || typeof node !== "object" || !(key in node)) return `${path} is missing (expected ${shown(expected)})`;
      node = node[key];
    }
    return sameJson(node, expected) ? "" : `${path} is ${shown(node)}, expected ${shown(expected)}`;
  });
}

// a check of a JSON field against (operator, value) pairs, as perfspec_locust_checks.json_mismatch:
// `exists` (present or not), `==`/`!=` (JSON equality), `text`/`!text` (the field as text against
// a value with placeholders), `<` `<=` `>` `>=` (the field must be a number)
export function jsonMatches(path, checks, ...keys) {
  const label = checks.map(([op, value]) => (op === "exists" ? (value ? "exists" : "is absent") : described(op, value)));
  return named(`${path} ${label.join(", ")}`, (res) => {
    let node;
    try {
      node = res.json();
    } catch {
      return `${path}: the body is not JSON`;
    }
    let present = true;
    for (const key of keys) {
      if (node === null || typeof node !== "object" || !(key in node)) {
        present = false;
        break;
      }
      node = node[key];
    }
    for (const [op, value] of checks) {
      if (op === "exists") {
        if (present !== value) return value ? `${path} is missing` : `${path} is ${shown(node)}, expected no such field`;
        continue;
      }
      if (!present) return `${path} is missing (expected ${described(op, value)})`;
      let ok;
      if (op === "==" || op === "!=") ok = sameJson(node, value) === (op === "==");
      else if (op === "text" || op === "!text") ok = (textOf(node) === value) === (op === "text");
      else if (typeof node !== "number") return `${path} is ${shown(node)}, expected a number ${op} ${shown(value)}`;
      else ok = COMPARE[op](node, value);
      if (!ok) return `${path} is ${shown(node)}, expected ${described(op, value)}`;
    }
    return "";
  });
}

const COMPARE = { "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b };

function described(op, value) {
  if (op === "==" || op === "text") return shown(value);
  if (op === "!=" || op === "!text") return `not ${shown(value)}`;
  return `${op} ${shown(value)}`;
}

// a JSON value as text: strings as they are, numbers and true/false/null as String() writes them,
// objects as compact JSON (perfspec_locust_checks.text_of writes the same)
export function textOf(value) {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function sameJson(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && sameJson(a[k], b[k]));
}

function shown(value) {
  const text = JSON.stringify(value);
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

// a check: store a value of the JSON body (its keys) in the user's variables
export function extractJson(user, variable, what, ...keys) {
  return named(`extract ${what}`, (res) => {
    if (res.status >= 300) return "";
    let node;
    try {
      node = res.json();
    } catch {
      return `cannot extract ${what}`;
    }
    for (const key of keys) {
      if (node === null || node === undefined || !(key in Object(node))) return `cannot extract ${what}`;
      node = node[key];
    }
    if (node === null || node === undefined) return `cannot extract ${what}`;
    user.vars[variable] = node;
    return "";
  });
}

// a check: store a response header, found case-insensitively (servers canonicalise: `Etag`)
export function extractHeader(user, variable, what, name) {
  const lowered = name.toLowerCase();
  return named(`extract ${what}`, (res) => {
    if (res.status >= 300) return "";
    for (const [key, value] of Object.entries(res.headers || {})) {
      if (key.toLowerCase() === lowered) {
        user.vars[variable] = value;
        return "";
      }
    }
    return `cannot extract ${what}`;
  });
}

// a WebSocket round trip per message, each a recorded call
export function websocket(ws, url, messages, params = {}, timeoutSeconds = 30) {
  const tags = params.tags;
  let sent = 0;
  let started = 0;
  const res = ws.connect(url.replace(/^http/, "ws"), params, (socket) => {
    const send = () => {
      started = Date.now();
      socket.send(messages[sent]);
      sent += 1;
    };
    socket.on("open", send);
    socket.on("message", () => {
      WS_LATENCY.add(Date.now() - started, tags);
      if (sent < messages.length) send();
      else socket.close();
    });
    socket.on("error", (e) => {
      FAILED.add(1, Object.assign({ reason: String(e.error ? e.error() : e), unsent: "yes" }, tags));
      socket.close();
    });
    socket.setTimeout(() => socket.close(), timeoutSeconds * 1000);
  });
  if (!res || res.status !== 101) {
    const reason = `websocket: ${res ? reasonOf(res) : "no response"}`;
    FAILED.add(1, Object.assign({ reason, unsent: "yes" }, tags));
  }
}

// the scenarios of $PERFSPEC_PROFILE (default: `fallback`): one per flow of that profile, named
// after the flow's function (its `exec`), the profile's users or arrival rate split by the flows'
// weights (`flows: { name: weight }`), each tagged with the profile. $PERFSPEC_DURATION (seconds)
// cuts the profile short: the stage running at that moment ends there, at the load it has reached.
// $PERFSPEC_RATE (requests/s) runs the profile's flows at that constant arrival rate instead, for
// $PERFSPEC_DURATION seconds, with at most $PERFSPEC_MAX_USERS users (perfspec capacity);
// $PERFSPEC_USERS holds that many users for the profile's length (perfspec run --users)
export function scenarios(profiles, fallback) {
  const name = __ENV.PERFSPEC_PROFILE || fallback;
  if (!(name in profiles)) {
    throw new Error(`PERFSPEC_PROFILE=${name} is not a k6 profile of this spec: ${Object.keys(profiles)}`);
  }
  const { flows, ...scenario } = profiles[name];
  const seconds = parseFloat(__ENV.PERFSPEC_DURATION || "0");
  const rate = parseFloat(__ENV.PERFSPEC_RATE || "0");
  const users = parseInt(__ENV.PERFSPEC_USERS || "0", 10);
  let whole;
  if (rate > 0) whole = constantRate(scenario, rate, seconds || 30);
  else if (users > 0) whole = constantUsers(scenario, users, seconds);
  else whole = capped(scenario, seconds);
  return split(whole, flows, name);
}

// a scenario per flow: its share of the users (whole ones, apportioned by the largest remainder
// at every stage, so the shares always add up to the whole) or of the arrival rate (exact: the
// time unit grows when a share is a fraction); a flow whose share is 0 throughout does not run
function split(whole, flows, profile) {
  const names = Object.keys(flows);
  const weights = names.map((n) => flows[n]);
  const total = weights.reduce((a, b) => a + b, 0);
  const out = {};
  const arrival = whole.executor.includes("arrival-rate");
  const scale = arrival && names.length > 1 ? 100 : 1; // rates per 100 time units: shares stay whole numbers
  names.forEach((flow, i) => {
    const s = { ...whole, exec: flow, tags: { profile } };
    const share = (n) => (arrival ? Math.round((n * scale * weights[i]) / total) : apportion(n, weights)[i]);
    for (const key of ["vus", "startVUs", "rate", "startRate"]) if (key in whole) s[key] = share(whole[key]);
    if (whole.stages) s.stages = whole.stages.map((st) => ({ ...st, target: share(st.target) }));
    if (arrival) {
      s.timeUnit = `${ms(whole.timeUnit || "1s") * scale}ms`;
      for (const key of ["preAllocatedVUs", "maxVUs"]) {
        if (key in whole) s[key] = Math.max(1, Math.ceil((whole[key] * weights[i]) / total));
      }
    }
    const load = [s.vus, s.startVUs, s.rate, s.startRate, ...(s.stages || []).map((st) => st.target)];
    if (load.some((n) => n > 0)) out[flow] = s;
  });
  return out;
}

// `n` whole users over the weights, by the largest remainder (ties to the first)
function apportion(n, weights) {
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (n * w) / total);
  const out = exact.map(Math.floor);
  let left = Math.round(n) - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i] += 1;
    left -= 1;
  }
  return out;
}

function constantUsers(scenario, users, seconds) {
  const length = scenario.duration
    ? ms(scenario.duration)
    : (scenario.stages || []).reduce((sum, stage) => sum + ms(stage.duration), 0);
  return {
    executor: "constant-vus",
    vus: users,
    duration: `${Math.round(seconds ? Math.min(length, seconds * 1000) : length)}ms`,
    gracefulStop: scenario.gracefulStop || "10s",
  };
}

function constantRate(scenario, rate, seconds) {
  const maxVUs = parseInt(__ENV.PERFSPEC_MAX_USERS || "0", 10) || scenario.maxVUs || Math.max(10, Math.ceil(rate));
  return {
    executor: "constant-arrival-rate",
    rate: Math.max(1, Math.round(rate * 100)),
    timeUnit: "100s",
    duration: `${Math.round(seconds * 1000)}ms`,
    preAllocatedVUs: Math.min(maxVUs, Math.max(1, Math.ceil(rate / 10))),
    maxVUs,
    gracefulStop: scenario.gracefulStop || "10s",
  };
}

function ms(text) {
  // a k6 duration in milliseconds: 500ms, 15s, 1m30s, 2h (0 for anything else)
  let total = 0;
  const rest = String(text).replace(/([0-9.]+)(ms|h|m|s)/g, (_, n, unit) => {
    total += parseFloat(n) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[unit];
    return "";
  });
  return rest === "" ? total : 0;
}

function capped(scenario, seconds) {
  if (!seconds) return scenario;
  const out = Object.assign({}, scenario);
  if (out.duration) out.duration = `${Math.min(ms(out.duration), seconds * 1000)}ms`;
  if (out.stages) {
    let left = seconds * 1000;
    let level = out.startVUs !== undefined ? out.startVUs : out.startRate;
    out.stages = [];
    for (const st of scenario.stages) {
      if (left <= 0) break;
      const length = ms(st.duration);
      if (length <= left) {
        out.stages.push(st);
      } else {
        const reached = level + (st.target - level) * (left / length);
        out.stages.push({ duration: `${left}ms`, target: out.executor === "ramping-vus" ? Math.round(reached) : reached });
      }
      left -= length;
      level = st.target;
    }
  }
  return out;
}

// options.thresholds of the spec's targets (TARGETS: per target, its thresholds by metric key):
// a key two targets share (they select the same samples) holds the bounds of both, each once
export function targetThresholds(targets) {
  const out = {};
  for (const bounds of Object.values(targets)) {
    for (const [key, expressions] of Object.entries(bounds)) {
      const list = (out[key] = out[key] || []);
      for (const e of expressions) {
        if (!list.some((x) => JSON.stringify(x) === JSON.stringify(e))) list.push(e);
      }
    }
  }
  return out;
}

// handleSummary's part: a line per target of the spec before k6's own summary (returning nothing
// keeps k6's summary as it is), each threshold as k6 judged it with what k6 measured:
//   ✗ target list_fast: http_req_duration{name:list_agents} p(95)<50 ✗ (p(95)=61.2ms)
export function targetSummary(data, targets) {
  for (const [name, bounds] of Object.entries(targets)) {
    let met = true;
    const parts = [];
    for (const [key, expressions] of Object.entries(bounds)) {
      const metric = data.metrics[key];
      for (const e of expressions) {
        const text = typeof e === "string" ? e : e.threshold;
        const judged = metric && metric.thresholds ? metric.thresholds[text] : undefined;
        const ok = judged !== undefined && judged.ok;
        met = met && ok;
        parts.push(`${key} ${text} ${ok ? "✓" : "✗"} (${measured(key, metric, text)})`);
      }
    }
    console.log(`${met ? "✓" : "✗"} target ${name}: ${parts.join(", ")}`);
  }
  return undefined;
}

// what k6 measured for a threshold expression (`p(95)<50`: its p(95)), written as k6's summary
// writes it (a time cut to 10 µs: 61.2ms, 428.34µs; a rate of failures in percent)
function measured(key, metric, text) {
  if (!metric) return "no samples";
  const stat = text.replace(/\s/g, "").match(/^[a-z]+(\([0-9.]+\))?/)[0];
  const value = metric.values[stat];
  if (value === undefined) return `${stat} not in the summary`;
  const cut = (v) => +(Math.floor(v * 100) / 100).toFixed(2);
  if (metric.contains === "time") {
    if (value >= 1000) return `${stat}=${cut(value / 1000)}s`;
    return value >= 1 ? `${stat}=${cut(value)}ms` : `${stat}=${cut(value * 1000)}µs`;
  }
  if (metric.type === "rate") return `${stat}=${(value * 100).toFixed(2)}%`;
  return `${stat}=${cut(value)}${stat === "rate" ? "/s" : ""}`;
}

let user = null; // this VU's user (a VU runs one flow: its scenario's)
let closed = true; // a closed model (users, not an arrival rate): think times apply

// a flow of the spec: how its users start (values, a data row, on_start calls), the headers of
// their calls, the 4xx statuses its tasks expect (`answers`, to the abort rule). The flow's
// function starts its VU's user at the first iteration (`start`, which returns it) and then calls
// the endpoints' functions itself: a call into this module costs k6 about 3 % of its requests per
// second, so the per-iteration path makes none but the think time (bench/load_efficiency.py)
export class Flow {
  constructor(name, { vars, feed, onStart = [], headers, answers, carries } = {}) {
    Object.assign(this, { name, vars, feed, onStart, headers, answers, carries });
  }

  start(shared) {
    tagInstance();
    if (UNSET.length) exec.test.abort(`set the host's environment variable: ${UNSET.join(", ")} is not set`);
    closed = !exec.scenario.executor.includes("arrival-rate");
    user = new User(this);
    Object.assign(user.vars, shared || {}); // what http.setup extracted, before on_start reads it
    if (this.feed) takeRow(this.feed, exec.vu.idInTest - 1);
    if (this.vars) this.vars(user);
    for (const [call, name, expected] of this.onStart) {
      const before = user.failures || 0;
      const cause = failedCause(call(user), expected, before);
      if (cause) {
        // the calls after it would fail for values it never got: this user stops, reported once
        user.stopped = `flow ${this.name}: on_start call ${name} failed (${cause})`;
        STOPPED.add(1, { reason: user.stopped });
        return user;
      }
    }
    if (this.carries) ownTags(...this.carries);
    return user;
  }
}

// what a user whose on_start failed does per iteration: nothing, for a second (k6 cannot stop
// one VU; never a busy loop)
export function idle() {
  sleep(1);
}

// a closed model's think time between iterations, `min` to `max` seconds (an open model's
// arrival rate sets the pace itself)
export function think(min, max) {
  if (closed) sleep(min + Math.random() * (max - min));
}

// a VU that calls one endpoint carries that endpoint's tags as its own: k6 sets them once, while
// tags in a request's params cost it about 7 % of its requests per second, and params that are
// an empty object 4 % (bench/load_efficiency.py). Every sample of the VU (requests,
// perfspec_failed) has them; the endpoint's PARAMS entry loses them, and is left undefined when
// nothing else remains (this VU's copy: each VU runs the script in its own runtime)
function ownTags(params, key) {
  const own = params[key];
  if (!own || !own.tags) return;
  for (const [name, value] of Object.entries(own.tags)) exec.vu.metrics.tags[name] = value;
  delete own.tags;
  if (Object.keys(own).length === 0) params[key] = undefined;
}

// paginate: the next pages of a paged answer, each requested by `get` and judged like the first,
// while the page has a next one (a JSON path's value, a header's rel="next" link or bare URL)
export function follow(res, get, pages, where, ...keys) {
  let page = res;
  for (let n = 1; n < pages; n++) {
    const next = nextPage(page, where, keys);
    if (!next) return;
    page = get(next);
  }
}

function nextPage(res, where, keys) {
  if (!res || res.status < 200 || res.status >= 300) return "";
  let found = "";
  if (where.startsWith("header:")) {
    const wanted = where.slice(7).toLowerCase();
    const name = Object.keys(res.headers).find((k) => k.toLowerCase() === wanted);
    const value = String(name ? res.headers[name] : "").trim();
    if (!value.startsWith("<")) return value ? absolute(value, res.url) : ""; // a bare URL
    for (const link of value.split(",")) { // RFC 8288: <url>; rel="next", ...
      const [target, ...params] = link.split(";");
      if (params.some((p) => /rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/.test(p))) {
        found = target.trim().replace(/^<|>$/g, "");
        break;
      }
    }
  } else {
    try {
      found = res.json();
      for (const key of keys) found = found[key];
    } catch {
      return "";
    }
  }
  return typeof found === "string" && found ? absolute(found, res.url) : "";
}

// a URL as a browser resolves a link on the page at `base`
function absolute(url, base) {
  if (/^https?:\/\//i.test(url)) return url;
  const origin = base.match(/^https?:\/\/[^/?#]+/i)[0];
  if (url.startsWith("//")) return base.split("//")[0] + url;
  if (url.startsWith("/")) return origin + url;
  const path = base.split(/[?#]/)[0];
  if (url.startsWith("?")) return path + url;
  return path.slice(0, path.lastIndexOf("/") + 1) + url;
}

// an ordered sequence, one task: each [call, name, expected statuses] in turn; the first that
// fails ends it (the calls after it would lack what it should have returned)
export function sequence(...steps) {
  return (u) => {
    let res;
    for (const [step, , expected] of steps) {
      const before = u.failures || 0;
      res = step(u);
      if (failedCause(res, expected, before)) return res;
    }
    return res;
  };
}

// a row of a data set as {user.COLUMN}: the n-th (wrapping around), or any when random
function takeRow([data, random], n) {
  const row = random ? data[Math.floor(Math.random() * data.length)] : data[n % data.length];
  for (const [key, value] of Object.entries(row)) user.vars[`user.${key}`] = value;
}

function failedCause(res, expected, before) {
  if (res === undefined || res === null) return user.lastFailure || "not sent";
  if (res.status === 0) return reasonOf(res);
  if (!expected.includes(res.status)) return `HTTP ${res.status}`;
  if ((user.failures || 0) > before) return user.lastFailure;
  return "";
}


// PERFSPEC_INSTANCE (a shard's name, a pod's): a tag on this VU's samples, so the shards of one
// test keep apart series where they meet (one Prometheus, written by k6's remote-write output)
function tagInstance() {
  if (__ENV.PERFSPEC_INSTANCE) exec.vu.metrics.tags.instance = __ENV.PERFSPEC_INSTANCE;
}

// http.setup (in k6's setup(), returning what it extracted for every VU) and http.teardown (in
// teardown(), given it): the endpoints called once by a user of their own; a failed setup call
// stops the test, the results say why
export function once(key, steps, shared) {
  tagInstance();
  user = new User({});
  Object.assign(user.vars, shared || {});
  for (const [step, name, expected] of steps) {
    const before = user.failures || 0;
    const cause = failedCause(step(user), expected, before);
    if (cause) {
      const reason = `http.${key} call ${name} failed (${cause})`;
      console.error(`perfspec: ${reason}`);
      if (key === "setup") {
        ABORTED.add(1, { reason: `${reason}: the users never started` });
        exec.test.abort(`perfspec: ${reason}`);
      }
      break;
    }
  }
  return user.vars;
}

// the abort rule: a VU that saw no answer (no response, a 5xx, or a 4xx its flow does not expect)
// for ABORT_MS stops the whole test, recording why (perfspec_aborted) so the results say the run
// was aborted and for what; called with each failed response the flow function reads (one in 8
// while the target answers, each from a failure on: the clock starts at most 7 iterations after
// the first failure, never before one; an answer ends the failing time)
function failing(u, res) {
  const now = Date.now();
  if (!u.since) u.since = now;
  if (ABORT_MS > 0 && now - u.since >= ABORT_MS) {
    const cause = res.status === 0 ? res.error || "no response" : `HTTP ${res.status}`;
    const reason = `every request failed for ${ABORT_MS / 1000}s (${cause})`;
    ABORTED.add(1, { reason });
    exec.test.abort(`perfspec: ${reason}`);
  }
}
