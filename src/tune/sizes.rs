//! `--memory`: the sizes a tune measures, as a list (`128,512,1769`) or a range
//! (`128..3008`: the powers of two in it, and 1,769 MB — one full vCPU — when inside). Pure.

/// Lambda's memory bounds, MB.
pub const MIN_MB: u64 = 128;
pub const MAX_MB: u64 = 10_240;
/// The memory at which a function has one full vCPU.
pub const ONE_VCPU_MB: u64 = 1_769;

pub const MEMORY_FORM: &str =
    "sizes in MB from 128 to 10240, as a list (128,256,512,1024,1769,3008) or a range (128..3008: its powers of two, and 1769 when inside)";

/// The sizes `text` names, ascending and each once.
pub fn parse(text: &str) -> Result<Vec<u64>, String> {
    let text = text.trim();
    let mut sizes = match text.split_once("..") {
        Some((low, high)) => {
            let (low, high) = (size(low)?, size(high)?);
            if low > high {
                return Err(format!("{low}..{high} runs backwards"));
            }
            range(low, high)
        }
        None => text.split(',').map(size).collect::<Result<Vec<_>, _>>()?,
    };
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.is_empty() {
        return Err(format!("{text:?} holds no power of two"));
    }
    Ok(sizes)
}

/// The powers of two from `low` to `high`, and 1,769 when inside.
fn range(low: u64, high: u64) -> Vec<u64> {
    let mut sizes: Vec<u64> = (7..=13)
        .map(|p| 1u64 << p)
        .filter(|s| (low..=high).contains(s))
        .collect();
    if (low..=high).contains(&ONE_VCPU_MB) {
        sizes.push(ONE_VCPU_MB);
    }
    sizes
}

fn size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let mb: u64 = text
        .strip_suffix("MB")
        .unwrap_or(text)
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of MB"))?;
    if !(MIN_MB..=MAX_MB).contains(&mb) {
        return Err(format!(
            "{mb} MB is outside Lambda's {MIN_MB} to {MAX_MB} MB"
        ));
    }
    Ok(mb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_sorted_and_each_size_once() {
        assert_eq!(parse("512,128,1769,512").unwrap(), vec![128, 512, 1769]);
        assert_eq!(parse(" 256 ").unwrap(), vec![256]);
    }

    #[test]
    fn a_range_is_its_powers_of_two_and_one_vcpu() {
        assert_eq!(
            parse("128..3008").unwrap(),
            vec![128, 256, 512, 1024, 1769, 2048]
        );
        assert_eq!(parse("256..1024").unwrap(), vec![256, 512, 1024]);
        assert_eq!(parse("1500..2000").unwrap(), vec![1769]);
    }

    #[test]
    fn bad_sizes_say_why() {
        assert!(parse("64").unwrap_err().contains("outside"));
        assert!(parse("128,lots")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse("1024..128").unwrap_err().contains("backwards"));
        assert!(parse("129..200").unwrap_err().contains("no power of two"));
        assert!(parse("").is_err());
    }
}
