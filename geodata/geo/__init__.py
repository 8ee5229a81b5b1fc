"""Geography: official boundaries, place names, routes, sites, the context layers and spatial enrichment."""
