# daemon/: smbdirectd.
