//! Test harness: start real tresor processes on loopback.
