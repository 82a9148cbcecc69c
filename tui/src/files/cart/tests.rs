use std::time::{Duration, SystemTime};

use super::*;

fn line(product: &str, qty: u32) -> KeptLine {
    KeptLine {
        product: ProductId::new(product).expect("valid"),
        name: format!("The {product}"),
        price_cents: 1200,
        qty,
    }
}

fn folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("ringshop").join("cart-guest.json");
    (dir, path)
}

/// The files in `path`'s folder, by name.
fn names(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(path.parent().expect("a folder"))
        .expect("readable")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_saved_cart_loads_back_the_same_and_an_empty_one_removes_the_file() {
    let (_dir, path) = folder();
    assert_eq!(load(&path).expect("no file is an empty cart"), vec![]);
    let cart = vec![line("mug", 2), line("tea-kettle", 1)];
    save(&path, "guest", &cart).expect("saves, creating the folder");
    assert_eq!(load(&path).expect("loads"), cart);
    save(&path, "guest", &cart[..1]).expect("saves over it");
    assert_eq!(load(&path).expect("loads"), cart[..1]);
    assert_eq!(names(&path), ["cart-guest.json"], "no temporary file left");
    save(&path, "guest", &[]).expect("saves empty");
    assert!(!path.exists());
    save(&path, "guest", &[]).expect("an empty cart twice is fine");
}

#[test]
fn a_corrupt_file_is_set_aside_named_and_the_cart_starts_empty() {
    let (_dir, path) = folder();
    fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
    fs::write(&path, b"{\"version\":1,\"lines\":[{\"prod").expect("writes");
    let err = load(&path).expect_err("not a cart");
    let CartError::Corrupt {
        aside: SetAside::To(aside),
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains(&aside.display().to_string()), "{text}");
    assert!(!path.exists());
    assert_eq!(
        fs::read(aside).expect("kept for the user"),
        b"{\"version\":1,\"lines\":[{\"prod"
    );
    assert_eq!(load(&path).expect("nothing there now"), vec![]);
}

#[test]
fn a_well_formed_file_that_is_not_a_valid_cart_is_set_aside_too() {
    let bad = [
        (r#"{"version":2,"customer":"guest","lines":[]}"#, "format 2"),
        (
            r#"{"version":1,"customer":"guest","lines":[{"product":"mug","name":"m","price_cents":1,"qty":0}]}"#,
            "quantity 0",
        ),
        (
            r#"{"version":1,"customer":"guest","lines":[{"product":"Mug!","name":"m","price_cents":1,"qty":1}]}"#,
            "invalid product id",
        ),
        (
            r#"{"version":1,"customer":"guest","lines":[{"product":"mug","name":"m","price_cents":1,"qty":1},{"product":"mug","name":"m","price_cents":1,"qty":2}]}"#,
            "two lines",
        ),
    ];
    for (text, why) in bad {
        let (_dir, path) = folder();
        fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        fs::write(&path, text).expect("writes");
        let err = load(&path).expect_err(why).to_string();
        assert!(err.contains(why), "{err}");
        assert!(!path.exists(), "{why}: set aside");
    }
}

#[test]
fn an_unreadable_file_is_set_aside_and_named() {
    let (_dir, path) = folder();
    // A folder where the file should be cannot be read as one (root ignores permissions).
    fs::create_dir_all(&path).expect("mkdir");
    let err = load(&path).expect_err("unreadable");
    assert!(matches!(err, CartError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("set aside as"), "{err}");
    assert!(!path.exists());
}

#[test]
fn a_temporary_file_left_by_a_killed_write_is_ignored_and_swept_once_old() {
    let (_dir, path) = folder();
    let cart = vec![line("mug", 2)];
    save(&path, "guest", &cart).expect("saves");
    // A write of another cart killed before its rename: the temporary file is all there is.
    let dir = path.parent().expect("a folder");
    let fresh = dir.join(".cart-guest.json.a1b2c3.tmp");
    let old = dir.join(".cart-guest.json.d4e5f6.tmp");
    for temp in [&fresh, &old] {
        fs::write(temp, br#"{"version":1,"customer":"guest","lines":[]}"#).expect("writes");
    }
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&old)
        .and_then(|f| f.set_modified(hour_ago))
        .expect("ages the file");
    assert_eq!(
        load(&path).expect("loads"),
        cart,
        "the last whole write wins"
    );
    assert!(fresh.exists(), "maybe another process's write in progress");
    assert!(!old.exists(), "an old one is swept");
}

#[test]
fn an_unwritable_folder_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let blocker = dir.path().join("state");
    fs::write(&blocker, b"a file, not a folder").expect("writes");
    let path = blocker.join("ringshop").join("cart-guest.json");
    assert_eq!(load(&path).expect("nothing can be there"), vec![]);
    let err = save(&path, "guest", &[line("mug", 1)]).expect_err("cannot write");
    assert!(matches!(err, CartError::Unwritable { .. }));
    assert!(err.to_string().contains("cart-guest.json"), "{err}");
}
