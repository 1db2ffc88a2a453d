//! ELF files (executables, shared libraries, the `.o` members of rlibs), compared section by
//! section, with the strings of the differing sections.

use std::collections::BTreeMap;

use object::elf::{self, FileHeader32, FileHeader64};
use object::read::elf::{FileHeader, SectionHeader as _};
use object::{Endianness, pod};

use super::members::occurrence_keys;
use super::{Builder, Context, Format, Unreadable, binary, strings};

/// The most differing sections listed by name (relocatable objects have thousands).
const MAX_SECTIONS_LISTED: usize = 64;
/// The most section names in one note.
const MAX_NAMES_IN_NOTE: usize = 8;

/// One ELF file, as far as the comparison needs it.
struct Image<'data> {
    header: Vec<(&'static str, u64)>,
    program_headers: &'data [u8],
    section_headers: &'data [u8],
    sections: Vec<Section<'data>>,
}

/// One section: its name, type, flags and the bytes it has in the file.
struct Section<'data> {
    name: String,
    sh_type: u32,
    flags: u64,
    data: &'data [u8],
}

impl Section<'_> {
    /// Whether the section's strings mean something: not machine code, not compressed, not a
    /// table of binary records (symbols, relocations, hashes, notes, unwind tables, DWARF other
    /// than its string and line tables, LLVM bitcode), where printable runs are noise.
    fn holds_strings(&self) -> bool {
        let binary_tables = [
            elf::SHT_SYMTAB,
            elf::SHT_DYNSYM,
            elf::SHT_RELA,
            elf::SHT_REL,
            elf::SHT_RELR,
            elf::SHT_HASH,
            elf::SHT_GNU_HASH,
            elf::SHT_GNU_VERSYM,
            elf::SHT_GROUP,
            elf::SHT_NOTE,
        ];
        let binary_names = [
            ".debug_info",
            ".debug_abbrev",
            ".debug_aranges",
            ".debug_ranges",
            ".debug_rnglists",
            ".debug_loc",
            ".debug_loclists",
            ".debug_frame",
            ".debug_addr",
            ".debug_str_offsets",
            ".eh_frame",
            ".eh_frame_hdr",
            ".gcc_except_table",
            ".llvmbc",
            ".llvmcmd",
        ];
        self.flags & (elf::SHF_EXECINSTR | elf::SHF_COMPRESSED).0 == 0
            && !binary_tables.iter().any(|t| t.0 == self.sh_type)
            && !binary_names.contains(&self.name.as_str())
    }

    fn is_compressed(&self) -> bool {
        self.flags & elf::SHF_COMPRESSED.0 != 0
    }
}

/// Compares two ELF files: header fields, then sections by name (in file order).
pub(super) fn compare(a: &[u8], b: &[u8], cx: &Context<'_>) -> Result<Builder, Unreadable> {
    let image_a = read(a).map_err(|e| Unreadable::new(0, "ELF file", e))?;
    let image_b = read(b).map_err(|e| Unreadable::new(1, "ELF file", e))?;
    let mut builder = Builder::new(Format::Elf);
    for ((field, value_a), (_, value_b)) in image_a.header.iter().zip(&image_b.header) {
        if value_a != value_b {
            builder.header_fields.push((*field).to_string());
        }
    }
    compare_sections(&image_a, &image_b, cx, &mut builder);
    if builder.sections.is_empty() {
        // Nothing differs inside the sections: say where the difference is.
        if image_a.program_headers != image_b.program_headers {
            builder.header_fields.push("program headers".to_string());
        }
        if image_a.section_headers != image_b.section_headers {
            builder.header_fields.push("section headers".to_string());
        }
        if builder.header_fields.is_empty() {
            builder
                .header_fields
                .push("bytes outside any section (padding)".to_string());
        }
    }
    Ok(builder)
}

fn compare_sections(a: &Image<'_>, b: &Image<'_>, cx: &Context<'_>, builder: &mut Builder) {
    let keys_a = occurrence_keys(a.sections.iter().map(|s| s.name.as_str()));
    let keys_b = occurrence_keys(b.sections.iter().map(|s| s.name.as_str()));
    let index_b: BTreeMap<(&str, usize), usize> =
        keys_b.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut matched_b = vec![false; b.sections.len()];
    let mut differing = Vec::new();
    let mut only_in = [Vec::new(), Vec::new()];
    let mut compressed = Vec::new();
    let mut strings = [Vec::new(), Vec::new()];
    for (key, section_a) in keys_a.iter().zip(&a.sections) {
        let Some(&i) = index_b.get(key) else {
            differing.push(section_a.name.clone());
            only_in[0].push(section_a.name.as_str());
            continue;
        };
        matched_b[i] = true;
        let section_b = &b.sections[i];
        if section_a.data == section_b.data
            && section_a.sh_type == section_b.sh_type
            && section_a.flags == section_b.flags
        {
            continue;
        }
        differing.push(section_a.name.clone());
        if section_a.is_compressed() || section_b.is_compressed() {
            compressed.push(section_a.name.as_str());
        }
        if section_a.holds_strings() && section_b.holds_strings() {
            binary::differing_strings(section_a.data, section_b.data, &mut strings);
        }
    }
    // Explained together: an object file puts each string constant in a section of its own,
    // so strings in another order show as sections whose contents were swapped.
    strings::explain(&strings[0], &strings[1], cx.scrubber, &mut builder.evidence);
    for (section_b, _) in b.sections.iter().zip(&matched_b).filter(|(_, m)| !**m) {
        differing.push(section_b.name.clone());
        only_in[1].push(section_b.name.as_str());
    }
    for (run, names) in only_in.iter().enumerate() {
        if !names.is_empty() {
            let what = format!("sections only in run {}", run + 1);
            builder.notes.push(listed(&what, names));
        }
    }
    if !compressed.is_empty() {
        let what = "compressed sections, strings not read";
        builder.notes.push(listed(what, &compressed));
    }
    if differing.len() > MAX_SECTIONS_LISTED {
        builder.notes.push(format!(
            "{} more differing sections not listed",
            differing.len() - MAX_SECTIONS_LISTED
        ));
        differing.truncate(MAX_SECTIONS_LISTED);
    }
    builder.sections = differing;
}

/// `what: a, b, c` with at most [`MAX_NAMES_IN_NOTE`] names, then how many more.
fn listed(what: &str, names: &[&str]) -> String {
    let shown = names[..names.len().min(MAX_NAMES_IN_NOTE)].join(", ");
    match names.len().checked_sub(MAX_NAMES_IN_NOTE) {
        Some(more) if more > 0 => format!("{what}: {shown} and {more} more"),
        _ => format!("{what}: {shown}"),
    }
}

fn read(data: &[u8]) -> object::read::Result<Image<'_>> {
    // `e_ident[EI_CLASS]`, the fifth byte.
    match data.get(4) {
        Some(&class) if class == elf::ELFCLASS32.0 => read_class::<FileHeader32<Endianness>>(data),
        _ => read_class::<FileHeader64<Endianness>>(data),
    }
}

fn read_class<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
) -> object::read::Result<Image<'_>> {
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let program_headers = header.program_headers(endian, data)?;
    let section_headers = header.section_headers(endian, data)?;
    let table = header.sections(endian, data)?;
    let mut sections = Vec::with_capacity(table.len());
    for section in table.iter() {
        let name = table.section_name(endian, section)?;
        sections.push(Section {
            name: String::from_utf8_lossy(name).into_owned(),
            sh_type: section.sh_type(endian).0,
            flags: section.sh_flags(endian).0,
            data: section.data(endian, data)?,
        });
    }
    Ok(Image {
        header: vec![
            ("ELF class", u64::from(header.e_ident().class.0)),
            ("ELF type", u64::from(header.e_type(endian).0)),
            ("ELF machine", u64::from(header.e_machine(endian).0)),
            ("ELF entry point", header.e_entry(endian).into()),
            ("ELF flags", u64::from(header.e_flags(endian).0)),
        ],
        program_headers: pod::bytes_of_slice(program_headers),
        section_headers: pod::bytes_of_slice(section_headers),
        sections,
    })
}
