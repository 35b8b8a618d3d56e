//! Recruiterflow: the API client, the mapping of its payloads to jobs, webhooks and sync.
