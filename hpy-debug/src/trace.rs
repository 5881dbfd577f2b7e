//! The HPy trace context (to be written): a context wrapping the universal
//! one that counts and times every call.
