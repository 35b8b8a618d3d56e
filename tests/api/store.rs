//! Store tests on real temporary SQLite files.
