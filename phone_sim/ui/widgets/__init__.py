"""What several screens show the same way: the footer, the status bar, the account lock and
unblock panels, input fields, lists that stop at their ends (``lists``), the keys panel
(``keys_panel``), the vendor console's table rows (``console_rows``) and its live audit trail
(``audit_tail``)."""
