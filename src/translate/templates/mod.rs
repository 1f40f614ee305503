//! Scaffolder `Template` entities generated from (Cluster)ComponentTypes,
//! (Cluster)ResourceTypes and (Cluster)ProjectTypes, as the legacy module's converters
//! make them. Being written.
