//! The names spans carry, which the sampler, the ring and the propagation helpers agree on.
//! Names only: nothing here reads or writes a span.

/// The field (and attribute) that marks a root span as an action, so its trace is kept.
pub const ACTION: &str = "action";
/// The attribute that says which node a span ran on.
pub const NODE: &str = "node";
/// The attribute that names the RPC a server span served (tarpc names them all "RPC").
pub const METHOD: &str = "rpc.method";
/// The node name of the main's spans.
pub const MAIN: &str = "main";
