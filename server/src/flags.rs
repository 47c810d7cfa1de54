//! Go-style command-line flags (`-name=value`, `-name value`, `--name`).
