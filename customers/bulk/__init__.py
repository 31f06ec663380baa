"""The set-based import and export engine behind Customers › Import and Export, the admin's
import and export, `manage.py import_file` and the import and export jobs. Called by the
services, never by views.

An import file is read as a table (tables: CSV in any of the usual encodings, or XLSX), its
first row mapped onto the columns of its kind (columns), and its rows imported in chunks
(chunks): each chunk's rows are parsed and validated in Python (rows), everything they
refer to is looked up with one query per kind of thing, and the rows are written with a few
statements (writers: an INSERT ... ON CONFLICT upsert of customers, bulk inserts of orders,
items, addresses, tag links and timeline entries). An export streams the rows of the
customer list or its orders into CSV or XLSX (exports).

Row numbers are those a spreadsheet shows: the header is row 1, the first data row is row 2.

Callers import the submodule that defines a name (`from customers.bulk import tables`,
then `tables.open_table`): a setting such as `chunks.CHUNK_SIZE` is read where it is
defined, so there is one name to change or patch, and this package re-exports nothing.
"""
