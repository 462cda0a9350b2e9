"""The demo target service (`perfspec demo serve`)."""
