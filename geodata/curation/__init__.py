"""What analysts add to incidents: verification, sources, sequences, duplicates, joined onto rows."""
