//! Client commands (`operator init`, `status`, ...). Owned by the CLI work; see ARCHITECTURE.md.

pub fn run(_args: &[String]) -> i32 {
    eprintln!("usage: tresor <command> [args]");
    1
}
