"""What several screens show the same way: the footer, the status bar, the account lock and
unblock panels, input fields, lists that stop at their ends (``lists``), the keys panel
(``keys_panel``), and the vendor console's table rows (``console_rows``)."""
