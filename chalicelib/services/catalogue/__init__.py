"""What can be booked: services, questions, clients, events and their groups and chains."""
