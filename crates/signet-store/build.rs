//! sqlx's `migrate!` embeds `migrations/` at compile time: build again when a migration
//! is added, not only when one it embedded changes.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
