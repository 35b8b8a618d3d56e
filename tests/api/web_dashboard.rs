//! The dashboard: filters and sorts through the query string, htmx fragments.
