"""The data model: incident schema, filter description, selection, precision wording, actors and roles."""
