      *----------------------------------------------------------------*
      * 住民記録エクスポート (vendor A), 430 バイト固定長 + CRLF          *
      * written for the tests: the layout of mappings/vendor_a/juki.yaml *
      *----------------------------------------------------------------*
       01  JUKI-HEADER.
           05  HDR-KBN             PIC X       VALUE '1'.
           05  LG-CODE             PIC 9(6).
           05  CREATED             PIC 9(8).
           05  SYSTEM              PIC N(20).
           05  FILLER              PIC X(375).
       01  JUKI-DATA.
           05  DATA-KBN            PIC X       VALUE '2'.
           05  ATENA-NO            PIC S9(15)  COMP-3.
           05  SETAI-NO            PIC 9(15).
           05  JUMIN-CODE          PIC 9(11).
           05  KOJIN-NO            PIC 9(12).
           05  SHUBETSU            PIC X.
           05  JOTAI               PIC XX.
           05  SHIMEI              PIC N(20).
           05  SHIMEI-KANA         PIC X(40).
           05  BIRTH               PIC 9(7).
           05  SEX                 PIC X.
               88  SEX-MALE        VALUE '0'.
               88  SEX-FEMALE      VALUE '1'.
           05  ZOKUGARA            PIC XX.
           05  SETAI-NUSHI         PIC N(20).
           05  SETAI-ORDER         PIC S9(3).
           05  JUMIN-DATE          PIC 9(7).
           05  IDOU-JIYU           PIC XX.
           05  IDOU-DATE           PIC 9(7).
           05  SHORI-DATE          PIC 9(8).
           05  POSTAL-CODE         PIC 9(7).
           05  ADDRESS-PARTS.
               10  ADDR-PREF       PIC N(5).
               10  ADDR-CITY       PIC N(10).
               10  ADDR-TOWN       PIC N(20).
               10  ADDR-BANCHI     PIC N(12).
               10  ADDR-KATAGAKI   PIC N(20).
           05  SHOJO-JIYU          PIC XX.
           05  SHOJO-DATE          PIC 9(7).
           05  KOKUSEKI            PIC XXX.
           05  ZAIRYU-KUBUN        PIC X.
           05  ZAIRYU-SHIKAKU      PIC XX.
           05  ZAIRYU-CARD-NO      PIC X(12).
           05  ZAIRYU-MANRYO       PIC 9(8).
           05  SHIMEI-ALPHA        PIC X(40).
           05  FILLER              PIC X(7).
       01  JUKI-TRAILER.
           05  TRL-KBN             PIC X       VALUE '9'.
           05  REC-COUNT           PIC S9(9).
           05  ATENA-TOTAL         PIC S9(18).
           05  FILLER              PIC X(402).
