"""The DfE guidance library and the council's model guidance for schools (later work)."""
