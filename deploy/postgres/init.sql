-- One database per service: each service owns its store.
CREATE DATABASE intake;
CREATE DATABASE routing;
CREATE DATABASE investigation;
CREATE DATABASE approval;
CREATE DATABASE notification;
CREATE DATABASE analytics;
