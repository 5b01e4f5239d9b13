//! System tests (see tests/ in the README).
