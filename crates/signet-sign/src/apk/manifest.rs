//! Reading `minSdkVersion` from a binary `AndroidManifest.xml`.
//!
//! # The format
//!
//! The manifest inside an APK is Android's compiled binary XML ("AXML"): a tree of
//! little-endian *chunks*. Every chunk starts with the same 8-byte header, `u16 type`,
//! `u16 headerSize`, `u32 size`; the rest of its header runs to `headerSize` and its body to
//! `size`, both counted from the chunk's first byte. A document is one `RES_XML_TYPE`
//! (0x0003) chunk whose body is a flat sequence of chunks:
//!
//! - the string pool (0x0001): every element and attribute name, namespace URI and string
//!   value, referenced by index; its strings are UTF-16 or, with flag 0x100, UTF-8, each
//!   prefixed by its length and followed by a NUL;
//! - the XML resource map (0x0180): `u32` resource ids, entry *i* being the id of the
//!   attribute name at string index *i* (this is how `android:minSdkVersion` is recognised:
//!   by id 0x0101020c, not by its name);
//! - the document's nodes in order: start and end namespace (0x0100, 0x0101), start and end
//!   element (0x0102, 0x0103) and CDATA (0x0104). A start element names its namespace and
//!   name by string index and holds its attributes, each a namespace, a name and a typed
//!   value (`Res_value`: a type byte and 32 bits of data, for a string its pool index).
//!
//! Chunks of other types are skipped by their size.
//!
//! # What is read
//!
//! [`min_sdk_version`] follows apksig (`ApkUtils.getMinSdkVersionFromBinaryAndroidManifest`
//! over `AndroidBinXmlParser`): it looks at the `uses-sdk` elements (no namespace) that are
//! children of the root element and reads their `android:minSdkVersion`. The whole document
//! is parsed, so damage anywhere in it is reported. The input is untrusted: every length and
//! offset is checked against the bytes actually present, nothing is allocated from a length
//! that was not, and the parser never panics.

use std::fmt;

/// Chunk type of a string pool.
const RES_STRING_POOL_TYPE: u16 = 0x0001;
/// Chunk type of a binary XML document.
const RES_XML_TYPE: u16 = 0x0003;
/// Chunk type of a namespace's start.
const RES_XML_START_NAMESPACE_TYPE: u16 = 0x0100;
/// Chunk type of a namespace's end.
const RES_XML_END_NAMESPACE_TYPE: u16 = 0x0101;
/// Chunk type of an element's start (with its attributes).
const RES_XML_START_ELEMENT_TYPE: u16 = 0x0102;
/// Chunk type of an element's end.
const RES_XML_END_ELEMENT_TYPE: u16 = 0x0103;
/// Chunk type of character data.
const RES_XML_CDATA_TYPE: u16 = 0x0104;
/// Chunk type of the map from attribute-name string index to resource id.
const RES_XML_RESOURCE_MAP_TYPE: u16 = 0x0180;

/// The header every chunk starts with: type, header size and size.
const CHUNK_HEADER_LEN: usize = 8;
/// A string pool's header: the chunk header and five `u32` fields.
const STRING_POOL_HEADER_LEN: usize = 28;
/// String pool flag: strings are UTF-8 rather than UTF-16.
const UTF8_FLAG: u32 = 0x100;
/// A string index meaning "none" (for example an element without a namespace).
const NO_INDEX: u32 = 0xffff_ffff;
/// The fixed part of a start element's body (`ResXMLTree_attrExt`).
const START_ELEMENT_LEN: usize = 20;
/// The body of an end element (`ResXMLTree_endElementExt`).
const END_ELEMENT_LEN: usize = 8;
/// The body of a start or end namespace (`ResXMLTree_namespaceExt`): prefix and URI.
const NAMESPACE_LEN: usize = 8;
/// The body of character data (`ResXMLTree_cdataExt`): the text and a typed value.
const CDATA_LEN: usize = 12;
/// One attribute (`ResXMLTree_attribute`): namespace, name, raw value and `Res_value`.
const ATTRIBUTE_LEN: usize = 20;

/// `Res_value` type of a string (data is a string pool index).
const TYPE_STRING: u8 = 0x03;
/// `Res_value` type of an integer written in decimal.
const TYPE_INT_DEC: u8 = 0x10;
/// `Res_value` type of an integer written in hexadecimal.
const TYPE_INT_HEX: u8 = 0x11;

/// The longest string value of `minSdkVersion` read, in encoded bytes.
const MAX_VALUE_LEN: usize = 1024;

/// Resource id of the `android:minSdkVersion` attribute.
const MIN_SDK_VERSION_ATTR_ID: u32 = 0x0101_020c;
/// Resource id of the `android:targetSdkVersion` attribute.
const TARGET_SDK_VERSION_ATTR_ID: u32 = 0x0101_0270;
/// The `android:` namespace URI.
const ANDROID_NS: &str = "http://schemas.android.com/apk/res/android";

/// The `minSdkVersion` a binary manifest declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MinSdk {
    /// An API level: an integer value, or a string of decimal digits. Values below 1 are
    /// reported as 1, as apksig does (it takes the maximum of 1 and the value).
    Level(u32),
    /// A pre-release platform codename such as `"Q"` (a string starting with `A`–`Z`).
    Codename(String),
    /// No `uses-sdk` child of the root element declares `android:minSdkVersion`. Android
    /// then treats the minimum as 1; the caller decides.
    Absent,
}

/// Why a binary manifest could not be read.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// The data ends before a structure it declares.
    Truncated {
        /// The structure that ends early, such as `"string pool"`.
        what: &'static str,
    },
    /// A structure holds an impossible or unsupported value.
    Malformed {
        /// The structure at fault, such as `"chunk header"`.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The data does not start with a binary XML (`RES_XML_TYPE`) chunk: it may be text XML
    /// or an App Bundle's protobuf manifest.
    NotBinaryXml,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what } => {
                write!(
                    f,
                    "binary AndroidManifest.xml is truncated: {what} ends early"
                )
            }
            Self::Malformed { what, detail } => {
                write!(
                    f,
                    "binary AndroidManifest.xml is malformed: {what}: {detail}"
                )
            }
            Self::NotBinaryXml => f.write_str(
                "not a binary AndroidManifest.xml: it does not start with a RES_XML_TYPE chunk",
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

/// Reads the `minSdkVersion` that a binary `AndroidManifest.xml` declares.
///
/// Like apksig, this looks at every `uses-sdk` element without a namespace at depth 2 (a
/// child of the root, which in a valid manifest is `<manifest>`), and in each at the first
/// attribute whose name has resource id 0x0101020c (`android:minSdkVersion`) in the XML
/// resource map. An attribute whose name has no entry in the map counts too if it is named
/// `minSdkVersion` in the `android` namespace. Its value may be an integer (decimal or
/// hexadecimal) or a string: decimal digits give a [`MinSdk::Level`], a string starting
/// with `A`–`Z` a [`MinSdk::Codename`]; any other string or value type is an error.
///
/// Android checks every `uses-sdk` element, so with several the strictest wins: the highest
/// level, or the first codename if any declares one (a codename needs a pre-release
/// platform, newer than any level). Without any, the result is [`MinSdk::Absent`].
///
/// # Errors
///
/// [`ManifestError::NotBinaryXml`] if the data is not binary XML, and
/// [`ManifestError::Truncated`] or [`ManifestError::Malformed`] if any part of the document
/// (not only `uses-sdk`) is damaged, or `minSdkVersion` has a value of an unsupported type.
pub fn min_sdk_version(axml: &[u8]) -> Result<MinSdk, ManifestError> {
    uses_sdk_value(axml, MIN_SDK_VERSION_ATTR_ID, "minSdkVersion")
}

/// Reads the `targetSdkVersion` of `uses-sdk`, by the same rules as
/// [`min_sdk_version`] (resource id 0x01010270). Android treats an absent target as the
/// min SDK.
pub fn target_sdk_version(axml: &[u8]) -> Result<MinSdk, ManifestError> {
    uses_sdk_value(axml, TARGET_SDK_VERSION_ATTR_ID, "targetSdkVersion")
}

fn uses_sdk_value(
    axml: &[u8],
    attr_id: u32,
    attr_name: &'static str,
) -> Result<MinSdk, ManifestError> {
    match read_u16(axml, 0) {
        Some(RES_XML_TYPE) => {}
        Some(_) => return Err(ManifestError::NotBinaryXml),
        None if axml.first().is_some_and(|&b| b != 0x03) => {
            return Err(ManifestError::NotBinaryXml);
        }
        None => {
            return Err(ManifestError::Truncated {
                what: "chunk header",
            });
        }
    }
    // Bytes after the document chunk are ignored, as Android does.
    let mut outer = axml;
    let document = next_chunk(&mut outer)?;

    let mut rest = document.body;
    let mut pool: Option<StringPool<'_>> = None;
    let mut resource_map: Option<&[u8]> = None;
    // Signed, as in apksig: stray end elements must not wrap around.
    let mut depth: i64 = 0;
    let mut found: Option<MinSdk> = None;

    // Every chunk is at least CHUNK_HEADER_LEN bytes long, so this loop ends.
    while !rest.is_empty() {
        let chunk = next_chunk(&mut rest)?;
        match chunk.kind {
            RES_STRING_POOL_TYPE => {
                if pool.is_some() {
                    return Err(malformed("string pool", "more than one string pool"));
                }
                pool = Some(StringPool::parse(&chunk)?);
            }
            RES_XML_RESOURCE_MAP_TYPE => {
                if resource_map.is_some() {
                    return Err(malformed("resource map", "more than one resource map"));
                }
                resource_map = Some(chunk.body);
            }
            RES_XML_START_ELEMENT_TYPE => {
                let pool = pool
                    .as_ref()
                    .ok_or_else(|| malformed("start element", "element before the string pool"))?;
                let element = StartElement::parse(chunk.body)?;
                let name = pool.get(element.name)?;
                let no_namespace =
                    element.namespace == NO_INDEX || pool.get(element.namespace)?.is_empty();
                depth += 1;
                if depth == 2 && no_namespace && name.eq_str("uses-sdk") {
                    if let Some(value) =
                        element.sdk_value(pool, resource_map, attr_id, attr_name)?
                    {
                        found = Some(match (found, value) {
                            (Some(MinSdk::Level(a)), MinSdk::Level(b)) => MinSdk::Level(a.max(b)),
                            (Some(codename @ MinSdk::Codename(_)), _) => codename,
                            (_, value) => value,
                        });
                    }
                }
            }
            RES_XML_END_ELEMENT_TYPE => {
                let pool = pool
                    .as_ref()
                    .ok_or_else(|| malformed("end element", "element before the string pool"))?;
                require_body(&chunk, END_ELEMENT_LEN)?;
                let (Some(namespace), Some(name)) =
                    (read_u32(chunk.body, 0), read_u32(chunk.body, 4))
                else {
                    return Err(ManifestError::Truncated {
                        what: "end element",
                    });
                };
                // Checked as apksig does, though only the depth matters here.
                if namespace != NO_INDEX {
                    pool.get(namespace)?;
                }
                pool.get(name)?;
                depth -= 1;
            }
            // Namespaces and character data do not bear on uses-sdk: only their size is
            // checked, as Android does.
            RES_XML_START_NAMESPACE_TYPE | RES_XML_END_NAMESPACE_TYPE => {
                require_body(&chunk, NAMESPACE_LEN)?;
            }
            RES_XML_CDATA_TYPE => require_body(&chunk, CDATA_LEN)?,
            // Unknown chunk types are skipped, as Android does.
            _ => {}
        }
    }
    Ok(found.unwrap_or(MinSdk::Absent))
}

/// Builds a [`ManifestError::Malformed`].
fn malformed(what: &'static str, detail: impl Into<String>) -> ManifestError {
    ManifestError::Malformed {
        what,
        detail: detail.into(),
    }
}

/// Checks that a chunk's body holds at least `min` bytes.
fn require_body(chunk: &Chunk<'_>, min: usize) -> Result<(), ManifestError> {
    if chunk.body.len() < min {
        return Err(ManifestError::Truncated {
            what: chunk_name(chunk.kind),
        });
    }
    Ok(())
}

/// The little-endian `u16` at `offset`, if the data holds it.
fn read_u16(data: &[u8], offset: usize) -> Option<u16> {
    let bytes = data.get(offset..offset.checked_add(2)?)?;
    bytes.try_into().ok().map(u16::from_le_bytes)
}

/// The little-endian `u32` at `offset`, if the data holds it.
fn read_u32(data: &[u8], offset: usize) -> Option<u32> {
    let bytes = data.get(offset..offset.checked_add(4)?)?;
    bytes.try_into().ok().map(u32::from_le_bytes)
}

/// The name used in errors for a chunk of this type.
fn chunk_name(kind: u16) -> &'static str {
    match kind {
        RES_XML_TYPE => "xml document",
        RES_STRING_POOL_TYPE => "string pool",
        RES_XML_RESOURCE_MAP_TYPE => "resource map",
        RES_XML_START_NAMESPACE_TYPE | RES_XML_END_NAMESPACE_TYPE => "namespace",
        RES_XML_START_ELEMENT_TYPE => "start element",
        RES_XML_END_ELEMENT_TYPE => "end element",
        RES_XML_CDATA_TYPE => "cdata",
        _ => "chunk",
    }
}

/// One chunk: its type, its whole header (including the common 8 bytes) and its body.
struct Chunk<'a> {
    kind: u16,
    header: &'a [u8],
    body: &'a [u8],
}

/// Splits the chunk at the start of `input` off it, checking its sizes.
fn next_chunk<'a>(input: &mut &'a [u8]) -> Result<Chunk<'a>, ManifestError> {
    let data: &'a [u8] = input;
    let (Some(kind), Some(header_size), Some(size)) =
        (read_u16(data, 0), read_u16(data, 2), read_u32(data, 4))
    else {
        return Err(ManifestError::Truncated {
            what: "chunk header",
        });
    };
    let header_len = usize::from(header_size);
    if header_len < CHUNK_HEADER_LEN {
        return Err(malformed(
            "chunk header",
            format!(
                "header size {header_size} of a {} is under 8 bytes",
                chunk_name(kind)
            ),
        ));
    }
    let len = usize::try_from(size).unwrap_or(usize::MAX);
    if len < header_len {
        return Err(malformed(
            "chunk header",
            format!(
                "size {size} of a {} is smaller than its header size {header_size}",
                chunk_name(kind)
            ),
        ));
    }
    let Some((chunk, rest)) = data.split_at_checked(len) else {
        return Err(ManifestError::Truncated {
            what: chunk_name(kind),
        });
    };
    let Some((header, body)) = chunk.split_at_checked(header_len) else {
        return Err(ManifestError::Truncated {
            what: chunk_name(kind),
        });
    };
    *input = rest;
    Ok(Chunk { kind, header, body })
}

/// A string pool: its offsets table and its strings section.
struct StringPool<'a> {
    /// `count` little-endian `u32` offsets into `strings`.
    offsets: &'a [u8],
    /// The strings section, from the first string to the styles (or the chunk's end).
    strings: &'a [u8],
    /// Whether strings are UTF-8 (else UTF-16LE).
    utf8: bool,
}

impl<'a> StringPool<'a> {
    /// Reads a string pool chunk's header and locates its tables.
    fn parse(chunk: &Chunk<'a>) -> Result<Self, ManifestError> {
        let header = chunk.header;
        let field = |offset| read_u32(header, offset);
        let (Some(count), Some(style_count), Some(flags), Some(strings_start), Some(styles_start)) =
            (field(8), field(12), field(16), field(20), field(24))
        else {
            return Err(malformed(
                "string pool",
                format!(
                    "header size {} is under {STRING_POOL_HEADER_LEN} bytes",
                    header.len()
                ),
            ));
        };
        // The offsets table follows the header; bounding it by the chunk bounds `count`.
        let offsets = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| chunk.body.get(..n))
            .ok_or(ManifestError::Truncated {
                what: "string pool",
            })?;
        let strings = if count == 0 {
            &[][..]
        } else {
            let header_len = header.len() as u64;
            let start = u64::from(strings_start)
                .checked_sub(header_len)
                .ok_or_else(|| {
                    malformed(
                        "string pool",
                        format!("strings start {strings_start} is inside the header"),
                    )
                })?;
            let end = if style_count > 0 {
                if styles_start < strings_start {
                    return Err(malformed(
                        "string pool",
                        format!(
                            "styles start {styles_start} is before strings start {strings_start}"
                        ),
                    ));
                }
                u64::from(styles_start) - header_len
            } else {
                chunk.body.len() as u64
            };
            usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(start, end)| chunk.body.get(start..end))
                .ok_or(ManifestError::Truncated {
                    what: "string pool",
                })?
        };
        Ok(Self {
            offsets,
            strings,
            utf8: flags & UTF8_FLAG != 0,
        })
    }

    /// The number of strings.
    fn len(&self) -> usize {
        self.offsets.len() / 4
    }

    /// The string at `index`, checked but not decoded.
    fn get(&self, index: u32) -> Result<PoolStr<'a>, ManifestError> {
        let offset = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(4))
            .and_then(|at| read_u32(self.offsets, at))
            .ok_or_else(|| {
                malformed(
                    "string reference",
                    format!(
                        "index {index} is out of range: the pool has {} strings",
                        self.len()
                    ),
                )
            })?;
        let data = usize::try_from(offset)
            .ok()
            .and_then(|at| self.strings.get(at..))
            .filter(|data| !data.is_empty())
            .ok_or_else(|| {
                malformed(
                    "string pool",
                    format!("string {index} starts at {offset}, past the strings section"),
                )
            })?;
        let truncated = ManifestError::Truncated {
            what: "string pool",
        };
        if self.utf8 {
            // The length in UTF-16 units (unused), then in bytes; each takes one byte, or
            // two with the high bit of the first set.
            let (_, units_len) = utf8_length(data).ok_or(truncated.clone())?;
            let rest = data.get(units_len..).ok_or(truncated.clone())?;
            let (len, len_len) = utf8_length(rest).ok_or(truncated.clone())?;
            let end = len_len.checked_add(len).ok_or(truncated.clone())?;
            let bytes = rest.get(len_len..end).ok_or(truncated.clone())?;
            match rest.get(end) {
                Some(0) => Ok(PoolStr::Utf8(bytes)),
                Some(_) => Err(not_terminated(index)),
                None => Err(truncated),
            }
        } else {
            // The length in UTF-16 units: one unit, or two with the high bit of the first set.
            let first = read_u16(data, 0).ok_or(truncated.clone())?;
            let (units, len_len) = if first & 0x8000 == 0 {
                (usize::from(first), 2)
            } else {
                let second = read_u16(data, 2).ok_or(truncated.clone())?;
                let units = (u32::from(first & 0x7fff) << 16) | u32::from(second);
                (usize::try_from(units).unwrap_or(usize::MAX), 4)
            };
            let end = units
                .checked_mul(2)
                .and_then(|n| n.checked_add(len_len))
                .ok_or(truncated.clone())?;
            let bytes = data.get(len_len..end).ok_or(truncated.clone())?;
            match read_u16(data, end) {
                Some(0) => Ok(PoolStr::Utf16(bytes)),
                Some(_) => Err(not_terminated(index)),
                None => Err(truncated),
            }
        }
    }
}

/// A UTF-8 pool string's length prefix: the value and how many bytes it took.
fn utf8_length(data: &[u8]) -> Option<(usize, usize)> {
    let first = *data.first()?;
    if first & 0x80 == 0 {
        Some((usize::from(first), 1))
    } else {
        let second = *data.get(1)?;
        Some(((usize::from(first & 0x7f) << 8) | usize::from(second), 2))
    }
}

/// The error for a pool string without its terminating NUL (Android requires it).
fn not_terminated(index: u32) -> ManifestError {
    malformed(
        "string pool",
        format!("string {index} is not NUL-terminated"),
    )
}

/// A string in the pool, still encoded.
#[derive(Clone, Copy)]
enum PoolStr<'a> {
    /// UTF-8 bytes.
    Utf8(&'a [u8]),
    /// UTF-16LE bytes (an even number).
    Utf16(&'a [u8]),
}

impl PoolStr<'_> {
    /// Whether the string is empty.
    fn is_empty(self) -> bool {
        match self {
            Self::Utf8(bytes) | Self::Utf16(bytes) => bytes.is_empty(),
        }
    }

    /// The length of the encoded string in bytes.
    fn encoded_len(self) -> usize {
        match self {
            Self::Utf8(bytes) | Self::Utf16(bytes) => bytes.len(),
        }
    }

    /// The UTF-16 units of a UTF-16 string.
    fn units(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
        bytes
            .chunks_exact(2)
            .filter_map(|pair| pair.try_into().ok().map(u16::from_le_bytes))
    }

    /// Whether the string equals `s`, comparing at most `s.len() + 1` characters.
    fn eq_str(self, s: &str) -> bool {
        match self {
            Self::Utf8(bytes) => bytes == s.as_bytes(),
            Self::Utf16(bytes) => Self::units(bytes).eq(s.encode_utf16()),
        }
    }

    /// The string, with invalid sequences replaced by U+FFFD.
    fn to_string_lossy(self) -> String {
        match self {
            Self::Utf8(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Self::Utf16(bytes) => char::decode_utf16(Self::units(bytes))
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
        }
    }
}

/// A start element's fixed fields and its attributes' bytes.
struct StartElement<'a> {
    namespace: u32,
    name: u32,
    /// `count` attributes of `size` bytes each.
    attributes: &'a [u8],
    size: usize,
    count: usize,
}

/// One attribute of a start element.
struct Attribute {
    namespace: u32,
    name: u32,
    data_type: u8,
    data: u32,
}

impl<'a> StartElement<'a> {
    /// Reads a start element chunk's body.
    fn parse(body: &'a [u8]) -> Result<Self, ManifestError> {
        let truncated = ManifestError::Truncated {
            what: "start element",
        };
        if body.len() < START_ELEMENT_LEN {
            return Err(truncated);
        }
        let (Some(namespace), Some(name), Some(start), Some(size), Some(count)) = (
            read_u32(body, 0),
            read_u32(body, 4),
            read_u16(body, 8),
            read_u16(body, 10),
            read_u16(body, 12),
        ) else {
            return Err(truncated);
        };
        let (start, size, count) = (usize::from(start), usize::from(size), usize::from(count));
        let attributes = size
            .checked_mul(count)
            .and_then(|len| len.checked_add(start))
            .and_then(|end| body.get(start..end))
            .ok_or(ManifestError::Truncated {
                what: "attribute list",
            })?;
        Ok(Self {
            namespace,
            name,
            attributes,
            size,
            count,
        })
    }

    /// The attribute at `index`, if it lies within the element.
    fn attribute(&self, index: usize) -> Option<Attribute> {
        let at = index.checked_mul(self.size)?;
        let bytes = self.attributes.get(at..at.checked_add(ATTRIBUTE_LEN)?)?;
        // Namespace, name, raw value, then Res_value: size (u16), res0 (u8), type, data.
        Some(Attribute {
            namespace: read_u32(bytes, 0)?,
            name: read_u32(bytes, 4)?,
            data_type: *bytes.get(15)?,
            data: read_u32(bytes, 16)?,
        })
    }

    /// This `uses-sdk` element's `android:<attr_name>` (resource id `attr_id`), if any.
    fn sdk_value(
        &self,
        pool: &StringPool<'_>,
        resource_map: Option<&[u8]>,
        attr_id: u32,
        attr_name: &'static str,
    ) -> Result<Option<MinSdk>, ManifestError> {
        if self.count > 0 && self.size < ATTRIBUTE_LEN {
            return Err(malformed(
                "uses-sdk element",
                format!(
                    "attribute size {} is under {ATTRIBUTE_LEN} bytes",
                    self.size
                ),
            ));
        }
        let resource_id = |name: u32| {
            let at = usize::try_from(name).ok()?.checked_mul(4)?;
            read_u32(resource_map?, at).filter(|&id| id != 0)
        };
        // `count` is bounded by the element's size, checked in `parse`.
        let attributes = || (0..self.count).filter_map(|i| self.attribute(i));
        let by_id = attributes().find(|a| resource_id(a.name) == Some(attr_id));
        let by_name = || {
            attributes().find(|a| {
                resource_id(a.name).is_none()
                    && a.namespace != NO_INDEX
                    && pool.get(a.namespace).is_ok_and(|ns| ns.eq_str(ANDROID_NS))
                    && pool.get(a.name).is_ok_and(|n| n.eq_str(attr_name))
            })
        };
        let Some(attribute) = by_id.or_else(by_name) else {
            return Ok(None);
        };
        match attribute.data_type {
            TYPE_INT_DEC | TYPE_INT_HEX => {
                let value = i32::from_le_bytes(attribute.data.to_le_bytes());
                Ok(Some(MinSdk::Level(
                    u32::try_from(value).unwrap_or(0).max(1),
                )))
            }
            TYPE_STRING => {
                let value = pool.get(attribute.data)?;
                // Codenames are short. The limit keeps the work linear in the input when many
                // uses-sdk elements name the same long string.
                if value.encoded_len() > MAX_VALUE_LEN {
                    return Err(malformed(
                        attr_name,
                        format!(
                            "a string value of {} bytes is too long for a level or codename",
                            value.encoded_len()
                        ),
                    ));
                }
                let value = value.to_string_lossy();
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                    let level = value
                        .parse::<u32>()
                        .map_err(|_| malformed(attr_name, format!("{value:?} is out of range")))?;
                    Ok(Some(MinSdk::Level(level.max(1))))
                } else if value.starts_with(|c: char| c.is_ascii_uppercase()) {
                    Ok(Some(MinSdk::Codename(value)))
                } else {
                    Err(malformed(
                        attr_name,
                        format!("{value:?} is neither an API level nor a platform codename"),
                    ))
                }
            }
            other => Err(malformed(
                attr_name,
                format!("unsupported value type 0x{other:02x}"),
            )),
        }
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
