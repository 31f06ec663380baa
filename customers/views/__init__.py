"""The pages of the customers app, one module per family of pages."""
