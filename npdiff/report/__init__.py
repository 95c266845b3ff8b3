"""One module per output format; each turns a result record into a string and prints nothing."""
