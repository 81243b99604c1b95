"""What several screens show the same way: the footer, the status bar, the account lock and
unblock panels, input fields, the keys panel (``keys_panel``), and the vendor console's table
rows (``console_rows``)."""
