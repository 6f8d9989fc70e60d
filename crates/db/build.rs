//! `sqlx::migrate!` embeds the migrations when this crate compiles; without this, a new or edited
//! migration alone would not rebuild it, and the binary would run without it.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
