//! The agent's operating-system edge, behind small traits so the agent shell can be
//! tested with fakes: alias addresses on an interface ([`AddressManager`]), the local user
//! behind a connection or DNS query ([`PeerUidLookup`]), and taking over the system
//! resolver configuration ([`ResolverTakeover`]).
//!
//! One module per OS implements them (`linux`, chosen with `cfg`); the pure resolv.conf
//! format rules live in [`resolv_conf`] so every implementation shares them.

mod address;
mod peer;
pub mod resolv_conf;
mod resolver;

#[cfg(target_os = "linux")]
pub mod linux;

pub use address::{AddressError, AddressManager, AssignedAddress, Interface, InterfaceFacts};
pub use peer::{PeerLookupError, PeerUidLookup};
pub use resolver::{
    ResolverDetails, ResolverError, ResolverMode, ResolverTakeover, Restored, Takeover,
    TakeoverChange,
};
