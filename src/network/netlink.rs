//! A minimal rtnetlink client: just the requests bridge networking needs (create a bridge
//! or a veth pair, set a link up, add an address, add a default route, delete a link, list
//! the IPv4 routes).
//!
//! Hand-rolled rather than `rtnetlink`: that crate is async (tokio) and pulls
//! `netlink-packet-route`, whose API changes every few months; the handful of fixed
//! messages below is a few hundred bytes of well-documented ABI (rtnetlink(7)), and staying
//! synchronous keeps `run` single-threaded and fast. A socket talks to the network
//! namespace it was created in, so one socket per namespace is opened and reused.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_ACK: u16 = 4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_NUM_TX_QUEUES: u16 = 31;
const IFLA_NUM_RX_QUEUES: u16 = 32;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const NLA_F_NESTED: u16 = 0x8000;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_TABLE: u16 = 15;

const IFF_UP: u32 = 1;
const IFA_F_NODAD: u8 = 0x02;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RTN_UNICAST: u8 = 1;

/// One netlink request being assembled: header, fixed part, attributes.
struct Msg {
    buf: Vec<u8>,
}

impl Msg {
    fn new(ty: u16, flags: u16) -> Msg {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, patched in finish()
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        buf.extend_from_slice(&1u32.to_ne_bytes()); // sequence: one request in flight
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it
        Msg { buf }
    }

    /// `struct ifinfomsg`.
    fn ifinfo(&mut self, index: i32, flags: u32, change: u32) {
        ifinfo(&mut self.buf, index, flags, change);
    }

    fn attr(&mut self, ty: u16, data: &[u8]) {
        attr(&mut self.buf, ty, data);
    }

    fn begin(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        at
    }

    fn end(&mut self, at: usize) {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

fn ifinfo(buf: &mut Vec<u8>, index: i32, flags: u32, change: u32) {
    buf.push(libc::AF_UNSPEC as u8);
    buf.push(0);
    buf.extend_from_slice(&0u16.to_ne_bytes()); // device type
    buf.extend_from_slice(&index.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&change.to_ne_bytes());
}

fn attr(buf: &mut Vec<u8>, ty: u16, data: &[u8]) {
    buf.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(data);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

fn name_bytes(name: &str) -> Vec<u8> {
    let mut v = name.as_bytes().to_vec();
    v.push(0);
    v
}

/// A NETLINK_ROUTE socket bound to the network namespace it was opened in.
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    pub fn open() -> io::Result<Socket> {
        // SAFETY: plain socket(2); the result is checked and owned right away.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor that nothing else owns.
        Ok(Socket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn send(&self, msg: Msg) -> io::Result<()> {
        let buf = msg.finish();
        // SAFETY: zeroed sockaddr_nl is valid (pid 0 = the kernel).
        let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        to.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: buf and `to` are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (&raw const to).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receive one datagram of replies into `buf`; its length.
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // SAFETY: buf is a writable buffer of the length given.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Send one request and wait for its acknowledgement (an errno, 0 on success).
    fn request(&self, msg: Msg) -> io::Result<()> {
        self.send(msg)?;
        let mut reply = [0u8; 4096];
        loop {
            let n = self.recv(&mut reply)?;
            let mut off = 0;
            while off + 16 <= n {
                let len = u32::from_ne_bytes(reply[off..off + 4].try_into().unwrap()) as usize;
                let ty = u16::from_ne_bytes(reply[off + 4..off + 6].try_into().unwrap());
                if ty == NLMSG_ERROR && off + 20 <= n {
                    let errno = i32::from_ne_bytes(reply[off + 16..off + 20].try_into().unwrap());
                    return if errno == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(-errno))
                    };
                }
                if len < 16 {
                    break;
                }
                off += (len + 3) & !3;
            }
        }
    }

    /// Create a bridge (down: the caller adds its address and then sets it up).
    pub fn add_bridge(&self, name: &str) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        m.ifinfo(0, 0, 0);
        m.attr(IFLA_IFNAME, &name_bytes(name));
        let li = m.begin(IFLA_LINKINFO);
        m.attr(IFLA_INFO_KIND, b"bridge");
        m.end(li);
        self.request(m)
    }

    pub fn set_up(&self, index: u32) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(index as i32, IFF_UP, IFF_UP);
        self.request(m)
    }

    /// Create a veth pair: `host` (up, enslaved to `master`) here and `peer` (down, with the
    /// hardware address `mac`) in the namespace `netns`, in one request.
    pub fn add_veth(
        &self,
        host: &str,
        master: u32,
        peer: &str,
        mac: [u8; 6],
        netns: RawFd,
    ) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        m.ifinfo(0, IFF_UP, IFF_UP);
        m.attr(IFLA_IFNAME, &name_bytes(host));
        m.attr(IFLA_MASTER, &master.to_ne_bytes());
        // One queue each way on both ends, said outright. Left out, the kernel allocates a
        // queue per CPU and then cuts the device down to one, after it is registered, and
        // each cut waits for an expedited RCU grace period: 0.2-0.5 ms per run here, more
        // under load. The result is the same single queue.
        let one = 1u32.to_ne_bytes();
        m.attr(IFLA_NUM_TX_QUEUES, &one);
        m.attr(IFLA_NUM_RX_QUEUES, &one);
        let li = m.begin(IFLA_LINKINFO);
        m.attr(IFLA_INFO_KIND, b"veth");
        let data = m.begin(IFLA_INFO_DATA);
        // The peer is an ifinfomsg followed by its own attributes, inside VETH_INFO_PEER.
        let mut p = Vec::with_capacity(64);
        // The peer is set up from inside its namespace: IFF_UP here fails (ENOTCONN).
        ifinfo(&mut p, 0, 0, 0);
        attr(&mut p, IFLA_IFNAME, &name_bytes(peer));
        attr(&mut p, IFLA_ADDRESS, &mac);
        attr(&mut p, IFLA_NET_NS_FD, &(netns as u32).to_ne_bytes());
        attr(&mut p, IFLA_NUM_TX_QUEUES, &one);
        attr(&mut p, IFLA_NUM_RX_QUEUES, &one);
        let pa = m.begin(VETH_INFO_PEER);
        m.buf.extend_from_slice(&p);
        m.end(pa);
        m.end(data);
        m.end(li);
        self.request(m)
    }

    /// Delete a link by name (a veth takes its peer with it).
    pub fn del_link(&self, name: &str) -> io::Result<()> {
        let mut m = Msg::new(RTM_DELLINK, 0);
        m.ifinfo(0, 0, 0);
        m.attr(IFLA_IFNAME, &name_bytes(name));
        self.request(m)
    }

    /// Add an address. An IPv6 one skips duplicate address detection (IFA_F_NODAD): the
    /// IPAM hands out unique addresses, and DAD would leave it unusable ("tentative") for
    /// the first second or more of the container's life.
    pub fn add_addr(&self, index: u32, ip: IpAddr, prefix: u8) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        m.buf.push(family(&ip));
        m.buf.push(prefix);
        m.buf.push(if ip.is_ipv6() { IFA_F_NODAD } else { 0 });
        m.buf.push(0); // scope: universe
        m.buf.extend_from_slice(&index.to_ne_bytes());
        let bytes = octets(&ip);
        if ip.is_ipv4() {
            m.attr(IFA_LOCAL, &bytes);
        }
        m.attr(IFA_ADDRESS, &bytes);
        self.request(m)
    }

    pub fn add_default_route(&self, gateway: IpAddr, oif: u32) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        m.buf.extend_from_slice(&[
            family(&gateway),
            0, // dst_len: default route
            0,
            0,
            RT_TABLE_MAIN,
            RTPROT_BOOT,
            0, // scope: universe
            RTN_UNICAST,
        ]);
        m.buf.extend_from_slice(&0u32.to_ne_bytes());
        m.attr(RTA_GATEWAY, &octets(&gateway));
        m.attr(RTA_OIF, &oif.to_ne_bytes());
        self.request(m)
    }
}

fn family(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => libc::AF_INET as u8,
        IpAddr::V6(_) => libc::AF_INET6 as u8,
    }
}

fn octets(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// A route of the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddr,
    pub prefix: u8,
    /// The outgoing link's index (0 when the route has none, e.g. a blackhole).
    pub oif: u32,
}

impl Socket {
    /// The IPv4 or IPv6 routes of the main table with a destination (the default route,
    /// which overlaps everything, is left out), as `ip route` / `ip -6 route` list them.
    pub fn routes(&self, v6: bool) -> io::Result<Vec<Route>> {
        let mut m = Msg::new(RTM_GETROUTE, NLM_F_DUMP);
        // struct rtmsg: only the family matters for a dump request.
        let fam = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
        m.buf.extend_from_slice(&[fam, 0, 0, 0, 0, 0, 0, 0]);
        m.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.send(m)?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = self.recv(&mut buf)?;
            let mut off = 0;
            while off + 16 <= n {
                let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
                let ty = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
                if len < 16 || off + len > n {
                    break;
                }
                match ty {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR if off + 20 <= n => {
                        let errno = i32::from_ne_bytes(buf[off + 16..off + 20].try_into().unwrap());
                        if errno != 0 {
                            return Err(io::Error::from_raw_os_error(-errno));
                        }
                    }
                    RTM_NEWROUTE => {
                        if let Some(r) = parse_route(&buf[off + 16..off + len]) {
                            out.push(r);
                        }
                    }
                    _ => {}
                }
                off += (len + 3) & !3;
            }
        }
    }
}

/// A `struct rtmsg` and its attributes, when it is a main-table route to a prefix.
fn parse_route(b: &[u8]) -> Option<Route> {
    let v6 = match i32::from(*b.first()?) {
        libc::AF_INET => false,
        libc::AF_INET6 => true,
        _ => return None,
    };
    if b.len() < 12 {
        return None;
    }
    let prefix = b[1];
    let mut table = u32::from(b[4]);
    let mut dst = None;
    let mut oif = 0;
    let mut off = 12;
    while off + 4 <= b.len() {
        let len = u16::from_ne_bytes([b[off], b[off + 1]]) as usize;
        let ty = u16::from_ne_bytes([b[off + 2], b[off + 3]]) & !NLA_F_NESTED;
        if len < 4 || off + len > b.len() {
            break;
        }
        let data = &b[off + 4..off + len];
        match (ty, data.len()) {
            (RTA_DST, 4) if !v6 => dst = Some(IpAddr::from(<[u8; 4]>::try_from(data).unwrap())),
            (RTA_DST, 16) if v6 => dst = Some(IpAddr::from(<[u8; 16]>::try_from(data).unwrap())),
            (RTA_OIF, 4) => oif = u32::from_ne_bytes(data.try_into().unwrap()),
            (RTA_TABLE, 4) => table = u32::from_ne_bytes(data.try_into().unwrap()),
            _ => {}
        }
        off += (len + 3) & !3;
    }
    (table == u32::from(RT_TABLE_MAIN) && prefix > 0).then_some(Route {
        dst: dst?,
        prefix,
        oif,
    })
}

/// The name of a link of the calling thread's network namespace.
pub fn name(index: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf has the IF_NAMESIZE bytes if_indextoname may write.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success buf holds a NUL-terminated name.
    let c = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(c.to_string_lossy().into_owned())
}

/// The index of a link in the calling thread's network namespace.
pub fn index(name: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: c is a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_parsed() {
        // struct rtmsg (AF_INET, /24, table main) + RTA_DST 10.86.9.0 + RTA_OIF 7.
        let mut b = vec![libc::AF_INET as u8, 24, 0, 0, RT_TABLE_MAIN, 2, 253, 1];
        b.extend_from_slice(&0u32.to_ne_bytes());
        attr(&mut b, RTA_DST, &[10, 86, 9, 0]);
        attr(&mut b, RTA_OIF, &7u32.to_ne_bytes());
        let r = parse_route(&b).unwrap();
        assert_eq!(r.dst, IpAddr::from([10, 86, 9, 0]));
        assert_eq!((r.prefix, r.oif), (24, 7));
        // The local table and the default route are left out.
        let mut local = b.clone();
        local[4] = 255;
        assert!(parse_route(&local).is_none());
        let mut default = vec![libc::AF_INET as u8, 0, 0, 0, RT_TABLE_MAIN, 2, 0, 1];
        default.extend_from_slice(&0u32.to_ne_bytes());
        assert!(parse_route(&default).is_none());
    }
}
