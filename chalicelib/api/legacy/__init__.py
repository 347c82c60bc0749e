"""The legacy XML face."""
