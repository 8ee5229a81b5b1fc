"""conflictmap map layers: one module per layer, each building a validated GeoDataFrame's
Folium layer, plus shared styling, escaping and offline assets. Never imports Streamlit."""
