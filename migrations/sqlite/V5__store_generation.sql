-- A counter that every write transaction made through jobrank's store moves forward
-- (in the same transaction), so in-memory copies of derived reads such as the
-- dashboard know when anything changed, whichever jobrank process wrote. Version 4 is
-- taken by the Recruiterflow users table.
CREATE TABLE store_generation (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    n INTEGER NOT NULL
);
INSERT INTO store_generation (singleton, n) VALUES (1, 0);
