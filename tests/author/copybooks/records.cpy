      * a multi-record file: header, person, income (child), trailer;
      * the income record REDEFINES the person record at level 01
       01  HEADER-REC.
           05  H-KBN               PIC X       VALUE '1'.
           05  H-LG-CODE           PIC 9(6).
           05  FILLER              PIC X(33).
       01  PERSON-REC.
           05  P-KBN               PIC X       VALUE '2'.
           05  ATENA-NO            PIC S9(15).
           05  SHIMEI              PIC N(10).
           05  FILLER              PIC X(4).
       01  INCOME-REC REDEFINES PERSON-REC.
           05  I-KBN               PIC X       VALUE '3'.
           05  I-CATEGORY          PIC 9(2).
           05  I-AMOUNT            PIC S9(11)  COMP-3.
           05  FILLER              PIC X(31).
       01  TRAILER-REC.
           05  T-KBN               PIC X       VALUE '9'.
           05  T-COUNT             PIC 9(9).
           05  FILLER              PIC X(30).
