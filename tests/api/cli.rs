//! Command-line tests: the real binary, real files.
