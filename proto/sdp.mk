# The SMB Direct engine ([MS-SMBD]), sans-IO.
