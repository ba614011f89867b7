//! Reading what an operator points podmeta at, bounded: a file that must be a regular
//! file, and stdin, each read to at most a limit.
//!
//! A path can name a FIFO, a device or a symlink to one (`/dev/zero`), and stdin can be
//! endless. So a file is opened without blocking (`O_NONBLOCK`: opening a FIFO with no
//! writer would otherwise wait forever), then the open handle, not the path, is checked
//! to be a regular file (a check of the path before opening it would race a swap), and
//! every read stops one byte past the limit.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Why an input could not be read.
#[derive(Debug)]
pub enum InputError {
    /// The path names something other than a regular file (a FIFO, a device, a
    /// directory, a socket).
    NotAFile(&'static str),
    /// More than the limit, in bytes.
    TooLarge(usize),
    /// The operating system's own error.
    Io(std::io::Error),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAFile(what) => write!(f, "it is {what}, not a regular file"),
            Self::TooLarge(limit) => write!(f, "it is larger than {limit} bytes"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<std::io::Error> for InputError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// The whole of the regular file at `path`, if it holds at most `limit` bytes.
pub fn read_file(path: &Path, limit: usize) -> Result<Vec<u8>, InputError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(InputError::NotAFile(describe(kind)));
    }
    read_bounded(file, limit)
}

/// Everything `reader` gives, if it is at most `limit` bytes; it is read no further than
/// one byte past the limit.
pub fn read_bounded(reader: impl Read, limit: usize) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    let most = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(most).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(InputError::TooLarge(limit));
    }
    Ok(bytes)
}

fn describe(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_is_read_to_its_limit_and_refused_one_byte_past_it() {
        assert_eq!(read_bounded(&b"abcd"[..], 4).unwrap(), b"abcd");
        let endless = std::io::repeat(b'x');
        assert!(matches!(
            read_bounded(endless, 16),
            Err(InputError::TooLarge(16))
        ));
    }

    #[test]
    fn only_a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.toml");
        std::fs::write(&file, "x = 1\n").unwrap();
        assert_eq!(read_file(&file, 100).unwrap(), b"x = 1\n");
        assert!(matches!(read_file(&file, 3), Err(InputError::TooLarge(3))));
        let err = read_file(dir.path(), 100).unwrap_err();
        assert_eq!(err.to_string(), "it is a directory, not a regular file");
        #[cfg(unix)]
        {
            let err = read_file(Path::new("/dev/zero"), 100).unwrap_err();
            assert_eq!(err.to_string(), "it is a device, not a regular file");
        }
    }
}
