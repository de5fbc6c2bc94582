-- One database per gateway node, as on a real deployment where each State runs its own.
CREATE DATABASE comity_at;
CREATE DATABASE comity_fr;
CREATE DATABASE comity_ke;
