//! The files a user names (tokens, themes, configs, message lists,
//! recordings): only a regular file is read (symlinks followed; a FIFO, a
//! device such as `/dev/zero` or a directory is refused before it is
//! opened), and a small file at most `max` bytes, said in words otherwise.

use std::io::Read;
use std::path::Path;

/// Open `path` for reading if it is a regular file, both before opening
/// (so a FIFO never blocks the open) and as opened (should the path have
/// changed in between). `what` names the file in errors ("the token file").
pub fn open_regular(path: &Path, what: &str) -> Result<std::fs::File, String> {
    let name = named(path, what);
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open {name}: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(path, what, &meta));
    }
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open {name}: {e}"))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot open {name}: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular(path, what, &meta));
    }
    Ok(f)
}

/// `{what} {path} is not a regular file (a FIFO)`.
pub fn not_regular(path: &Path, what: &str, meta: &std::fs::Metadata) -> String {
    let t = meta.file_type();
    let kind = if t.is_dir() {
        " (a directory)"
    } else {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            " (a character device)"
        } else if t.is_block_device() {
            " (a block device)"
        } else if t.is_fifo() {
            " (a FIFO)"
        } else if t.is_socket() {
            " (a socket)"
        } else {
            ""
        }
    };
    format!("{} is not a regular file{kind}", named(path, what))
}

/// `the token file /path`, or the path alone when `what` is empty.
fn named(path: &Path, what: &str) -> String {
    if what.is_empty() {
        path.display().to_string()
    } else {
        format!("{what} {}", path.display())
    }
}

/// The whole text of a small regular file: at most `max` bytes (checked
/// on its size and again while reading, should it grow), UTF-8.
pub fn read_text(path: &Path, max: u64, what: &str) -> Result<String, String> {
    let f = open_regular(path, what)?;
    let name = named(path, what);
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let too_big = |n: u64| format!("{name} is {n} bytes: more than the {max} it may be");
    if len > max {
        return Err(too_big(len));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if buf.len() as u64 > max {
        return Err(too_big(buf.len() as u64));
    }
    String::from_utf8(buf).map_err(|e| {
        format!(
            "{name} is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_small_regular_utf8_file_is_read() {
        let d = std::env::temp_dir().join(format!("rt-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let ok = d.join("ok");
        std::fs::write(&ok, "héllo\n").unwrap();
        assert_eq!(read_text(&ok, 100, "the file").unwrap(), "héllo\n");
        // Over the limit: said with both sizes.
        let e = read_text(&ok, 3, "the token file").unwrap_err();
        assert!(
            e.contains("the token file") && e.contains("is 7 bytes") && e.contains("3"),
            "{e}"
        );
        // Not UTF-8.
        let bin = d.join("bin");
        std::fs::write(&bin, [b'a', 0xff, b'b']).unwrap();
        assert!(
            read_text(&bin, 100, "x")
                .unwrap_err()
                .contains("not UTF-8 text (byte 1)")
        );
        // A device that never ends, a directory, a FIFO: refused, never read.
        let e = read_text(Path::new("/dev/zero"), 100, "the theme").unwrap_err();
        assert!(e.contains("not a regular file (a character device)"), "{e}");
        let e = read_text(&d, 100, "x").unwrap_err();
        assert!(e.contains("(a directory)"), "{e}");
        let fifo = d.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let e = read_text(&fifo, 100, "x").unwrap_err();
        assert!(e.contains("(a FIFO)"), "{e}");
        // A symlink to a regular file is followed.
        let link = d.join("link");
        std::os::unix::fs::symlink(&ok, &link).unwrap();
        assert_eq!(read_text(&link, 100, "x").unwrap(), "héllo\n");
        let missing = read_text(&d.join("nope"), 100, "the config").unwrap_err();
        assert!(missing.starts_with("cannot open the config"), "{missing}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
