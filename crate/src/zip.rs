//! The `.zip` the page hands a reader for an export directory, and the reader's `.zip` of a PEFT
//! adapter read back. Written uncompressed (f32 weights barely compress); read stored or
//! deflated, as `zipfile`, `shutil.make_archive` and the desktop's "Compress" write them.
//!
//! The reader trusts nothing in the file: every offset is checked against its length, every
//! size against `MAX_ENTRY_BYTES` before anything is inflated, and inflating stops at the size
//! the entry declares, so a zip bomb costs at most that much memory.

use miniz_oxide::inflate::decompress_to_vec_with_limit;

/// The most one file in an archive may hold once inflated: a whole model of the shipped shape
/// in f32 is 3.3 MB, an adapter kilobytes.
pub const MAX_ENTRY_BYTES: usize = 64 << 20;
/// The most files an archive may hold: an export directory has two to five.
pub const MAX_ENTRIES: usize = 64;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// Names are UTF-8 (general purpose flag bit 11).
const UTF8_NAMES: u16 = 1 << 11;
/// 1980-01-01, the format's earliest date: the archive is the same bytes whenever it is made.
const DOS_DATE: u16 = (1 << 5) | 1;

/// An archive of `files` (name, bytes), stored uncompressed.
pub fn write(files: &[(impl AsRef<str>, impl AsRef<[u8]>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, bytes) in files {
        let (name, bytes) = (name.as_ref(), bytes.as_ref());
        let offset = out.len() as u32;
        let crc = crc32fast::hash(bytes);
        let header = |out: &mut Vec<u8>, signature: u32| {
            out.extend(signature.to_le_bytes());
            if signature == CENTRAL {
                out.extend(20u16.to_le_bytes()); // made by: version 2.0
            }
            for field in [20u16, UTF8_NAMES, 0, 0, DOS_DATE] {
                out.extend(field.to_le_bytes()); // version needed, flags, stored, time, date
            }
            for field in [crc, bytes.len() as u32, bytes.len() as u32] {
                out.extend(field.to_le_bytes());
            }
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes()); // no extra field
        };
        header(&mut out, LOCAL);
        out.extend(name.as_bytes());
        out.extend(bytes);
        header(&mut central, CENTRAL);
        central.extend([0u8; 10]); // comment length, disk, internal and external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (central_at, central_len) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend(END.to_le_bytes());
    out.extend([0u8; 4]); // this disk, the directory's disk
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((files.len() as u16).to_le_bytes());
    out.extend(central_len.to_le_bytes());
    out.extend(central_at.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // no comment
    out
}

/// Every file in an archive, as (name, bytes), folders and macOS's `__MACOSX/` shadows left out;
/// or what is wrong with it.
pub fn read(archive: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let bad = |why: String| format!("not a usable .zip: {why}");
    let u16_at = |at: usize| archive.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at: usize| archive.get(at..at + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    // The end record is in the last 22 bytes plus at most a 65,535-byte comment.
    let earliest = archive.len().saturating_sub(22 + u16::MAX as usize);
    let end = (earliest..archive.len().saturating_sub(21))
        .rev()
        .find(|&at| u32_at(at) == Some(END))
        .ok_or_else(|| bad("no end-of-archive record".into()))?;
    let count = u16_at(end + 10).unwrap() as usize;
    let mut at = u32_at(end + 16).unwrap() as usize;
    if count > MAX_ENTRIES {
        return Err(bad(format!("it lists {count} files; an export has at most {MAX_ENTRIES}")));
    }
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(at) != Some(CENTRAL) {
            return Err(bad("its directory is damaged".into()));
        }
        let field = |offset: usize| u16_at(at + offset).ok_or_else(|| bad("its directory is cut short".into()));
        let (flags, method) = (field(8)?, field(10)?);
        let crc = u32_at(at + 16).unwrap_or_default();
        let (packed, size) =
            (u32_at(at + 20).unwrap_or_default() as usize, u32_at(at + 24).unwrap_or_default() as usize);
        let (name_len, extra_len, comment_len) = (field(28)? as usize, field(30)? as usize, field(32)? as usize);
        let local = u32_at(at + 42).ok_or_else(|| bad("its directory is cut short".into()))? as usize;
        let name = archive.get(at + 46..at + 46 + name_len).ok_or_else(|| bad("its directory is cut short".into()))?;
        let name = String::from_utf8_lossy(name).into_owned();
        at += 46 + name_len + extra_len + comment_len;
        if name.ends_with('/')
            || name.starts_with("__MACOSX/")
            || name.rsplit('/').next().is_some_and(|n| n.starts_with("._"))
        {
            continue;
        }
        if flags & 1 != 0 {
            return Err(bad(format!("{name} is encrypted")));
        }
        if size > MAX_ENTRY_BYTES || packed > MAX_ENTRY_BYTES {
            return Err(bad(format!(
                "{name} would be {size} bytes, more than the {MAX_ENTRY_BYTES} a file here may be"
            )));
        }
        if u32_at(local) != Some(LOCAL) {
            return Err(bad(format!("{name}'s entry is not where the directory says")));
        }
        let start = local
            + 30
            + u16_at(local + 26).unwrap_or_default() as usize
            + u16_at(local + 28).unwrap_or_default() as usize;
        let data =
            archive.get(start..start.saturating_add(packed)).ok_or_else(|| bad(format!("{name} is cut short")))?;
        let bytes = match method {
            0 => data.to_vec(),
            8 => decompress_to_vec_with_limit(data, size)
                .map_err(|_| bad(format!("{name} does not inflate to the {size} bytes it declares")))?,
            other => {
                return Err(bad(format!("{name} is compressed with method {other}; only stored and deflate are read")));
            }
        };
        if bytes.len() != size || crc32fast::hash(&bytes) != crc {
            return Err(bad(format!("{name} is damaged (its size or checksum does not match)")));
        }
        files.push((name, bytes));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let files = [("adapter_config.json", b"{}".as_slice()), ("a/b.safetensors", &[0u8, 1, 2, 255])];
        let read = read(&write(&files)).unwrap();
        assert_eq!(
            read,
            vec![
                ("adapter_config.json".to_string(), b"{}".to_vec()),
                ("a/b.safetensors".to_string(), vec![0, 1, 2, 255])
            ]
        );
    }

    #[test]
    fn a_deflated_entry_inflates() {
        let text = b"hello hello hello hello hello".to_vec();
        let packed = miniz_oxide::deflate::compress_to_vec(&text, 6);
        let mut archive = write(&[("x.txt", &packed)]);
        // Mark the entry deflated, with the original's checksum and size: (method, crc, size)
        // sit at 8, 14, 22 in the local header and at 10, 16, 24 in the directory's.
        let central = archive.len() - 22 - (46 + "x.txt".len());
        for (method, crc, size) in [(8, 14, 22), (central + 10, central + 16, central + 24)] {
            archive[method..method + 2].copy_from_slice(&8u16.to_le_bytes());
            archive[crc..crc + 4].copy_from_slice(&crc32fast::hash(&text).to_le_bytes());
            archive[size..size + 4].copy_from_slice(&(text.len() as u32).to_le_bytes());
        }
        assert_eq!(read(&archive).unwrap()[0].1, text);
    }
}
