use hpy_core::prelude::*;

#[hpy_def]
enum Color {
    Red,
    Green,
}

fn main() {
    let _ = (Color::Red, Color::Green);
}
