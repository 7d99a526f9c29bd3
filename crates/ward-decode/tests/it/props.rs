//! Property tests shared by every decoder.
