"""The importers under fuzz_importers.py's mutations: a fixed, seeded number of cases per
importer (a few seconds), each a clean exit 0 or a one-line exit 1, and both outcomes
reached by a fair share of the inputs (a fuzzer whose inputs all fail at the header, or all
pass, tests nothing).  `make fuzz` runs the same fuzzer for minutes."""

import io
import unittest

from capture.tests.fuzz_importers import TARGETS, fuzz


class FuzzImporters(unittest.TestCase):
    def test_every_mutated_log_is_imported_or_cleanly_refused(self):
        for target in sorted(TARGETS):
            with self.subTest(importer=target):
                report = io.StringIO()
                counts = fuzz(target, cases=1000, seed=1, report=report)   # raises on a finding
                self.assertEqual(counts["inputs"], 1000)
                self.assertGreater(counts["ok"], 0.05 * 1000, report.getvalue())
                self.assertGreater(counts["rejected"], 0.05 * 1000, report.getvalue())


if __name__ == "__main__":
    unittest.main()
