"""Notifications: which events deserve the trader's attention (`Notified`), and e-mail delivery."""
