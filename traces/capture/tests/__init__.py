"""unittest suite of the capture package: cd traces && /usr/bin/python3 -m unittest discover -s capture/tests -t ."""
