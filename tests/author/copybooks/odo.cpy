       01  VAR-REC.
           05  N-ITEMS             PIC 9(2).
           05  ITEMS               OCCURS 1 TO 10 TIMES DEPENDING ON N-ITEMS.
               10  ITEM-CODE       PIC X(4).
