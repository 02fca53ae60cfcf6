//! The archive on disk: damage to its files is found and reported, never
//! spread, and what is still readable can be salvaged; a revisit is stored
//! as what changed.

mod compact;
mod damage;
mod deltas;
mod packs;
mod postgres;
mod records;
mod workers;
