//! OpenChoreo API resources (serde). Tolerant: unknown fields are ignored, optional
//! fields default. Filled in by the translation work.
