"""The SSSE record layout: which data element lives in which record of which file. ONE module.

What is known (../shared/design/SMARTCARD.md, 《社会保障（个人）卡规范》 as public reader code uses it):
- EF05 (issuer data) and EF06 (holder data) are record files; every data element is its own
  record holding ONE TLV: tag(1) length(1) value. The tags are the data-item numbers (EF05: 01-07,
  EF06: 08-0D, 4E the extended name of the V2.0 data-item notice).
- Public reader code reads single elements: ``00 B2 07 2C 0B`` (record 07 of SFI 05 = the card
  number, 2 + 9 bytes) and, after ``00 A4 02 00 02 EF06``, ``00 B2 09 00 20`` (the name by its
  record identifier = tag 09, 2 + 30 bytes), ``0A``/``0B``/``0C``/``0D`` likewise; the design notes
  read a whole file with ``00 B2 01 05 00`` (all records from record 1).

What is ASSUMED here (the specification's file tables are not public):
- SFI = the low byte of the file id (EF05 -> 05, EF06 -> 06), as ``00 B2 07 2C`` implies for EF05.
- Record NUMBERS: in EF05 the number equals the tag (01-07, which ``00 B2 07 2C`` confirms). In
  EF06 the numbering is not confirmed: :data:`RecordNumbering.SEQUENTIAL` (1, 2, ... in the order
  below) or :data:`RecordNumbering.BY_TAG` (the number is the tag, 08-0D, 4E). The reader does not
  depend on it: it reads every element by its record IDENTIFIER (P2 = 00, P1 = the tag), which
  public code uses and which is the same under both numberings. The virtual card offers both.
- 4E (extended name) is present only when the name does not fit tag 09; it is the last record.
- Tags 02 (card type) and 04 (institution), and 0A-0C, may be absent on older cards; the others
  are required (``records.py`` decides that).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RecordNumbering(StrEnum):
    SEQUENTIAL = "sequential"   # records 1..n in the order of the file's tags
    BY_TAG = "byTag"            # record number = the tag


@dataclass(frozen=True)
class RecordFile:
    name: str
    fid: int
    sfi: int
    tags: tuple[int, ...]       # the data elements, in record order
    optional: frozenset[int]    # tags a card may lack (its READ RECORD answers 6A83)

    def record_number(self, tag: int, numbering: RecordNumbering) -> int:
        if numbering is RecordNumbering.BY_TAG:
            return tag
        return self.tags.index(tag) + 1


EF05 = RecordFile("EF05", 0xEF05, 0x05, (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07), frozenset({0x02, 0x04}))
EF06 = RecordFile("EF06", 0xEF06, 0x06, (0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x4E),
                  frozenset({0x0A, 0x0B, 0x0C, 0x4E}))
FILES = {f.fid: f for f in (EF05, EF06)}
FILES_BY_SFI = {f.sfi: f for f in (EF05, EF06)}

# READ RECORD P2, ISO 7816-4: bits 8-4 = SFI (0 = the current EF), bits 3-1 = how P1 is meant.
P2_IDENTIFIER_FIRST = 0b000     # P1 = record identifier (the tag), first occurrence
P2_IDENTIFIER_LAST = 0b001      # ... last occurrence (identifiers are unique here: the same record)
P2_NUMBER = 0b100               # P1 = record number
P2_NUMBER_TO_END = 0b101        # records from P1 to the last, concatenated (a whole-file read)


def read_record_p2(mode: int, sfi: int = 0) -> int:
    return (sfi << 3) | mode
