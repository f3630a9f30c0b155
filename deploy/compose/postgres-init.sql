-- One PostgreSQL 15 server for the whole compose stack, one database per service, each owned by
-- its own login role: the same isolation as the one-cluster-per-service Kubernetes setup
-- (a service can reach only its own data), at the cost of one container.
-- Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d).
-- Passwords equal the role names: local development only.
CREATE ROLE novatrek_guests LOGIN PASSWORD 'novatrek_guests';
CREATE DATABASE novatrek_guests OWNER novatrek_guests;
CREATE ROLE novatrek_catalog LOGIN PASSWORD 'novatrek_catalog';
CREATE DATABASE novatrek_catalog OWNER novatrek_catalog;
CREATE ROLE novatrek_reservations LOGIN PASSWORD 'novatrek_reservations';
CREATE DATABASE novatrek_reservations OWNER novatrek_reservations;
CREATE ROLE novatrek_payments LOGIN PASSWORD 'novatrek_payments';
CREATE DATABASE novatrek_payments OWNER novatrek_payments;
CREATE ROLE novatrek_orders LOGIN PASSWORD 'novatrek_orders';
CREATE DATABASE novatrek_orders OWNER novatrek_orders;
CREATE ROLE novatrek_inventory LOGIN PASSWORD 'novatrek_inventory';
CREATE DATABASE novatrek_inventory OWNER novatrek_inventory;
CREATE ROLE novatrek_wallet LOGIN PASSWORD 'novatrek_wallet';
CREATE DATABASE novatrek_wallet OWNER novatrek_wallet;
CREATE ROLE novatrek_notifications LOGIN PASSWORD 'novatrek_notifications';
CREATE DATABASE novatrek_notifications OWNER novatrek_notifications;
CREATE ROLE novatrek_partners LOGIN PASSWORD 'novatrek_partners';
CREATE DATABASE novatrek_partners OWNER novatrek_partners;
CREATE ROLE novatrek_checkout LOGIN PASSWORD 'novatrek_checkout';
CREATE DATABASE novatrek_checkout OWNER novatrek_checkout;
CREATE ROLE novatrek_businesses LOGIN PASSWORD 'novatrek_businesses';
CREATE DATABASE novatrek_businesses OWNER novatrek_businesses;
CREATE ROLE novatrek_passes LOGIN PASSWORD 'novatrek_passes';
CREATE DATABASE novatrek_passes OWNER novatrek_passes;
CREATE ROLE novatrek_bookings LOGIN PASSWORD 'novatrek_bookings';
CREATE DATABASE novatrek_bookings OWNER novatrek_bookings;
CREATE ROLE novatrek_loyalty LOGIN PASSWORD 'novatrek_loyalty';
CREATE DATABASE novatrek_loyalty OWNER novatrek_loyalty;
CREATE ROLE novatrek_network LOGIN PASSWORD 'novatrek_network';
CREATE DATABASE novatrek_network OWNER novatrek_network;
