000100*> every construct of one record, in fixed format with sequence numbers
000200 01  KAZEI-REC.
000300     05  REC-KBN             PIC X(2)          VALUE '10'.
000400     05  SHIMEI              PIC N(10).
000500     05  SHIMEI-G            PIC G(5).
000600     05  NENGAKU             PIC S9(9).
000700     05  ZEIGAKU             PIC S9(7)V99      COMP-3.
000800     05  RITSU               PIC 9(3)V99.
000900     05  FUKA-KAISU          PIC 9(4)          COMP.
001000     05  GOKEI-BIN           PIC S9(9)         BINARY.
001100     05  SMALL-RATE          PIC PP99.
001200     05  SEN-EN              PIC 9(5)PPP.
001300     05  KIBETSU             OCCURS 4 TIMES.
001400         10  KI-GAKU         PIC S9(7)         COMP-3.
001500         10  KI-NOKI         PIC 9(8).
001600     05  KIBETSU-ALL REDEFINES KIBETSU PIC X(48).
001700     05  SHOWN-AMOUNT        PIC ZZZ,ZZ9.
001800     05  SIGNED-SEP          PIC S9(5) SIGN LEADING SEPARATE.
001900     05  FLAG                PIC X.
002000         88  FLAG-ON         VALUE 'Y'.
002100         88  FLAG-OFF        VALUE 'N'.
002200     05  FILLER              PIC X(10).
002300 66  KIBETSU-RENAMED RENAMES KIBETSU.
