//! Minimal IPv4 CIDR arithmetic for subnet carving.

use std::fmt;

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ipv4Cidr {
    /// The network address as a number.
    pub addr: u32,
    /// The prefix length.
    pub prefix: u8,
}

impl Ipv4Cidr {
    /// Parse `a.b.c.d/n`; the address must be the network address.
    pub fn parse(s: &str) -> Option<Ipv4Cidr> {
        let (ip, prefix) = s.trim().split_once('/')?;
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        let mut addr: u32 = 0;
        let mut n = 0;
        for part in ip.split('.') {
            let o: u8 = part.parse().ok()?;
            addr = (addr << 8) | u32::from(o);
            n += 1;
        }
        if n != 4 {
            return None;
        }
        let c = Ipv4Cidr { addr, prefix };
        (c.addr & c.mask() == c.addr).then_some(c)
    }

    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    /// The `index`-th subnet with `newbits` more prefix bits (Terraform's `cidrsubnet`).
    pub fn subnet(&self, newbits: u8, index: u32) -> Option<Ipv4Cidr> {
        let prefix = self.prefix.checked_add(newbits).filter(|p| *p <= 32)?;
        if newbits < 32 && index >= (1u32 << newbits) {
            return None;
        }
        let size = if prefix == 32 { 1 } else { 1u32 << (32 - u32::from(prefix)) };
        Some(Ipv4Cidr { addr: self.addr.checked_add(index.checked_mul(size)?)?, prefix })
    }

    /// True when the two blocks share an address.
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        let m = self.mask() & other.mask();
        self.addr & m == other.addr & m
    }

    /// True when `other` lies inside `self`.
    pub fn contains(&self, other: &Ipv4Cidr) -> bool {
        other.prefix >= self.prefix && other.addr & self.mask() == self.addr
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.addr;
        write!(f, "{}.{}.{}.{}/{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::Ipv4Cidr;
    use proptest::prelude::*;

    #[test]
    fn carving() {
        let v = Ipv4Cidr::parse("10.0.0.0/16").unwrap();
        assert_eq!(v.subnet(3, 0).unwrap().to_string(), "10.0.0.0/19");
        assert_eq!(v.subnet(3, 2).unwrap().to_string(), "10.0.64.0/19");
        assert_eq!(v.subnet(8, 240).unwrap().to_string(), "10.0.240.0/24");
        assert!(v.subnet(3, 8).is_none());
        assert!(Ipv4Cidr::parse("10.0.0.1/16").is_none());
        assert!(Ipv4Cidr::parse("10.0.0.0/33").is_none());
        let p = Ipv4Cidr::parse("100.64.0.0/16").unwrap();
        assert!(!v.overlaps(&p));
        assert!(v.overlaps(&Ipv4Cidr::parse("10.0.128.0/17").unwrap()));
        assert!(Ipv4Cidr::parse("100.64.0.0/10").unwrap().contains(&p));
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(a in any::<u32>(), p in 0u8..=32) {
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - u32::from(p)) };
            let c = Ipv4Cidr { addr: a & mask, prefix: p };
            prop_assert_eq!(Ipv4Cidr::parse(&c.to_string()), Some(c));
        }
    }
}
